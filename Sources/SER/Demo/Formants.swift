/// Formant targets of an adult male vocal tract: vowels and the voiced consonants the demo synthesizer makes.
///
/// Frequencies are Peterson and Barney's (1952) male averages for ten American English vowels, with F4 at 3.5 kHz;
/// a speaker's vocal tract length scales all four (female tracts are about 15% shorter, so their formants are
/// about 1.15x higher).
struct FormantTarget: Sendable {
    /// F1-F4 in Hz.
    var frequencies: SIMD4<Double>
    /// The bandwidths of F1-F4 in Hz.
    var bandwidths: SIMD4<Double>

    init(_ f1: Double, _ f2: Double, _ f3: Double, _ f4: Double = 3_500, bandwidths: SIMD4<Double> = [80, 100, 140, 220]) {
        frequencies = [f1, f2, f3, f4]
        self.bandwidths = bandwidths
    }

    /// Moves the target towards `centre` (`articulation` < 1: a reduced vowel space) or away from it (> 1).
    func articulated(_ articulation: Double, around centre: FormantTarget) -> FormantTarget {
        var target = self
        target.frequencies = centre.frequencies + (frequencies - centre.frequencies) * articulation
        return target
    }
}

enum Formants {
    /// /i ɪ ɛ æ ɑ ɔ ʊ u ʌ ɝ/.
    static let vowels: [FormantTarget] = [
        FormantTarget(270, 2290, 3010),
        FormantTarget(390, 1990, 2550),
        FormantTarget(530, 1840, 2480),
        FormantTarget(660, 1720, 2410),
        FormantTarget(730, 1090, 2440),
        FormantTarget(570, 840, 2410),
        FormantTarget(440, 1020, 2240),
        FormantTarget(300, 870, 2240),
        FormantTarget(640, 1190, 2390),
        FormantTarget(490, 1350, 1690),
    ]

    /// The neutral vowel (schwa) of a uniform tube: the centre of the vowel space.
    static let schwa = FormantTarget(500, 1500, 2500)

    /// A nasal murmur (/m n/): low F1, damped upper formants.
    static let nasal = FormantTarget(250, 1100, 2300, 3_500, bandwidths: [120, 300, 300, 400])
    /// The lateral /l/.
    static let lateral = FormantTarget(360, 1000, 2700, 3_500, bandwidths: [100, 150, 200, 250])
    /// The glide /w/.
    static let glide = FormantTarget(300, 700, 2200, 3_500, bandwidths: [90, 120, 200, 250])

    /// A vowel by index (any integer: taken modulo the table size).
    static func vowel(_ index: Int) -> FormantTarget {
        let count = vowels.count
        return vowels[((index % count) + count) % count]
    }
}
