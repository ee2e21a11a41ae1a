import LakeStorage

extension LakeMirror.Rules {
  /// A STEDI lake's rules for a working copy: landing files (`<source>/landing/…`) are the input,
  /// written by ingestion and never by the pipeline; the pipeline's lock and the ingest service's
  /// write-ahead log (under `_stedi/`) belong to this machine; a Parquet table's Delta log goes up
  /// after its data files.
  public static let stediLake = LakeMirror.Rules(
    isInput: { key in key.split(separator: "/").dropFirst().first == "landing" },
    isLocalOnly: { key in key == "_stedi/pipeline.lock" || key.hasPrefix("_stedi/ingest-wal/") },
    isCommit: { key in key.contains("/_delta_log/") }
  )
}
