/// The corpus layouts the readers know, and how to tell them apart.
public enum CorpusFormat: String, CaseIterable, Sendable {
    case iemocap
    case manifest
    case ravdess
    case cremad

    /// The format of a path: a `.csv`/`.tsv`/`.tab` file is a manifest, a folder with a `Session1` folder IEMOCAP, a
    /// folder whose `.wav` files are mostly named the RAVDESS or the CREMA-D way that corpus. Throws when none fits.
    public static func detect(_ path: String) throws(DataError) -> CorpusFormat {
        let lower = path.lowercased()
        if DataFiles.isFile(path) {
            guard lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") || lower.hasSuffix(".tab") else {
                throw DataError("not a folder or a .csv/.tsv manifest", file: path, hint: "give the corpus folder, or --format")
            }
            return .manifest
        }
        guard DataFiles.isDirectory(path) else { throw DataError("no such file or folder", file: path) }
        if DataFiles.isDirectory(DataFiles.join(path, "Session1")) { return .iemocap }
        let names = try DataFiles.files(under: path, suffix: ".wav").map(DataFiles.stem)
        let ravdess = names.filter { RAVDESS.FileName($0) != nil }.count
        let cremad = names.filter { CREMAD.FileName($0) != nil }.count
        if ravdess > 0, ravdess * 2 >= names.count, ravdess >= cremad { return .ravdess }
        if cremad > 0, cremad * 2 >= names.count { return .cremad }
        throw DataError("cannot tell the corpus format: no Session1 folder, and the .wav names (\(names.count)) are neither RAVDESS's nor CREMA-D's",
                        file: path, hint: "give --format iemocap, manifest, ravdess or cremad")
    }

    /// Reads a corpus of this format with its default label map (IEMOCAP's four classes, RAVDESS's and CREMA-D's
    /// own emotions, a manifest's values as written).
    /// Reads the corpus at `path` with a label map (from the spec), or the format's default one.
    public func read(_ path: String, labels: LabelMap? = nil) throws(DataError) -> Corpus {
        switch self {
        case .iemocap: try IEMOCAP.read(root: path, labels: labels ?? IEMOCAP.fourClass)
        case .manifest: try Manifest.read(path, labels: labels)
        case .ravdess: try RAVDESS.read(root: path, labels: labels ?? RAVDESS.allEmotions)
        case .cremad: try CREMAD.read(root: path, labels: labels ?? CREMAD.allEmotions)
        }
    }
}
