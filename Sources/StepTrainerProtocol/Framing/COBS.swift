/// Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999), PROTOCOL.md section 3.3.
///
/// Decoding is not here: the frame decoder undoes COBS byte by byte as bytes arrive, so it never
/// buffers the encoded form.
public enum COBS {
  /// Encodes `source` into `destination` (which holds at least `source.count + source.count / 254 + 1`
  /// bytes) and returns the number of bytes written. No delimiter is appended.
  @inlinable
  public static func encode(
    _ source: UnsafeBufferPointer<UInt8>, into destination: UnsafeMutableBufferPointer<UInt8>
  ) -> Int {
    var codeIndex = 0
    var out = 1
    var code: UInt8 = 1
    for byte in source {
      if byte == 0 {
        destination[codeIndex] = code
        codeIndex = out
        out += 1
        code = 1
      } else {
        destination[out] = byte
        out += 1
        code += 1
        if code == 0xFF {
          destination[codeIndex] = code
          codeIndex = out
          out += 1
          code = 1
        }
      }
    }
    destination[codeIndex] = code
    return out
  }
}
