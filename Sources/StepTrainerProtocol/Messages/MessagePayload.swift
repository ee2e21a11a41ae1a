/// A message's payload struct that knows its type byte and writes itself, so a frame can be
/// encoded straight from it without first building a `Message` (as large as its largest case).
public protocol MessagePayload {
  /// The type byte of frames carrying this payload.
  static var messageType: MessageType { get }
  /// Writes the payload's fields.
  func write(_ writer: inout PayloadWriter)
}

extension Connect: MessagePayload {
  /// CONNECT.
  public static var messageType: MessageType { .connect }
}

extension Hello: MessagePayload {
  /// HELLO.
  public static var messageType: MessageType { .hello }
}

extension Heartbeat: MessagePayload {
  /// HEARTBEAT.
  public static var messageType: MessageType { .heartbeat }
}

extension Reading: MessagePayload {
  /// READING.
  public static var messageType: MessageType { .reading }
}

extension ReadingBatch: MessagePayload {
  /// READING_BATCH.
  public static var messageType: MessageType { .readingBatch }
}

extension TimeSyncRequest: MessagePayload {
  /// TIME_SYNC_REQUEST.
  public static var messageType: MessageType { .timeSyncRequest }
}

extension TimeSyncResponse: MessagePayload {
  /// TIME_SYNC_RESPONSE.
  public static var messageType: MessageType { .timeSyncResponse }
}

extension Configure: MessagePayload {
  /// CONFIGURE.
  public static var messageType: MessageType { .configure }
}

extension Ack: MessagePayload {
  /// ACK.
  public static var messageType: MessageType { .ack }
}

extension Nack: MessagePayload {
  /// NACK.
  public static var messageType: MessageType { .nack }
}

extension Fault: MessagePayload {
  /// FAULT.
  public static var messageType: MessageType { .fault }
}
