/// Deterministic mutations of an input's bytes (a seeded SplitMix64 generator: the same seed, the same inputs):
/// bit flips, interesting bytes, deletions, duplications, the target's tokens inserted or put in place of a
/// number, and splices with another input. One to four stacked per new input.
struct FuzzMutator {
    private var state: UInt64
    let tokens: [[UInt8]]

    init(seed: UInt64, tokens: [String]) {
        state = seed
        self.tokens = tokens.map { Array($0.utf8) }
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }

    /// A mutant of `input`; `other` is another input of the corpus to splice with.
    mutating func mutate(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = input
        for _ in 0...below(4) { bytes = mutateOnce(bytes, other: other) }
        return bytes
    }

    private mutating func mutateOnce(_ input: [UInt8], other: [UInt8]) -> [UInt8] {
        var bytes = input
        if bytes.isEmpty { return tokens.isEmpty ? [0] : tokens[below(tokens.count)] }
        let position = below(bytes.count)
        switch below(8) {
        case 0:
            bytes[position] ^= UInt8(1 << below(8))
        case 1:
            bytes[position] = [0, 0xFF, 0x7F, 0x80, 0x0A, 0x20, 0x22, 0x7B][below(8)]
        case 2:
            bytes.removeSubrange(position..<min(bytes.count, position + 1 + below(16)))
        case 3:
            let length = min(bytes.count - position, 1 + below(64))
            bytes.insert(contentsOf: bytes[position..<position + length], at: below(bytes.count + 1))
        case 4, 5:
            guard !tokens.isEmpty else { break }
            bytes.insert(contentsOf: tokens[below(tokens.count)], at: position)
        case 6:
            // A run of digits replaced by a token (the numbers among them are the point).
            guard !tokens.isEmpty, let start = (position..<bytes.count).first(where: { isDigit(bytes[$0]) }) else { break }
            var end = start
            while end < bytes.count, isDigit(bytes[end]) { end += 1 }
            bytes.replaceSubrange(start..<end, with: tokens[below(tokens.count)])
        default:
            guard !other.isEmpty else { break }
            let cut = below(other.count)
            bytes = Array(bytes[..<position]) + other[cut...]
        }
        return bytes
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
