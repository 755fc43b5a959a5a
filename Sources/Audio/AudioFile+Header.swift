import CSndFile

extension AudioFile {
    /// What a file's header says: its format, encoding, rate, channels and length.
    public struct Header: Sendable {
        /// libsndfile's name of the container format ("WAV (Microsoft)", "FLAC (Free Lossless Audio Codec)").
        public var format: String
        /// libsndfile's name of the sample encoding ("Signed 16 bit PCM", "32 bit float").
        public var encoding: String
        public var sampleRate: Int
        public var channels: Int
        public var frames: Int
        public var seconds: Double { Double(frames) / Double(sampleRate) }
    }

    /// Reads a file's header only (no samples), with the checks `read` makes of it: the file exists, libsndfile
    /// reads it, and it has channels, a rate and samples.
    public static func header(_ path: String) throws(AudioError) -> Header {
        let (file, info) = try open(path)
        sf_close(file)
        let major = info.format & Int32(SF_FORMAT_TYPEMASK), minor = info.format & Int32(SF_FORMAT_SUBMASK)
        return Header(format: formatName(major), encoding: formatName(minor),
                      sampleRate: Int(info.samplerate), channels: Int(info.channels), frames: Int(info.frames))
    }

    /// libsndfile's name of a major format or a subtype, or its code in hex when libsndfile has no name for it.
    static func formatName(_ code: Int32) -> String {
        var query = SF_FORMAT_INFO()
        query.format = code
        let status = sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &query, Int32(MemoryLayout<SF_FORMAT_INFO>.size))
        guard status == 0, let name = query.name else { return "format 0x" + String(code, radix: 16) }
        return String(cString: name)
    }
}
