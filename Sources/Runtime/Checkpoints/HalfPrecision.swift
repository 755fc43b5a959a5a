/// Exact conversion of 16-bit floats to Float32, from their bit patterns (every 16-bit value is a Float32 value).
enum HalfPrecision {
    /// IEEE binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. Subnormals (exponent 0) become
    /// normal Float32 values; NaNs keep their payload and come out quiet, as hardware conversions do.
    static func float(fromF16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1f
        var fraction = UInt32(bits & 0x3ff)
        switch exponent {
        case 0x1f:
            // Infinity (fraction 0) or NaN.
            return Float(bitPattern: sign | 0x7f80_0000 | (fraction == 0 ? 0 : 0x0040_0000 | fraction << 13))
        case 0:
            guard fraction != 0 else { return Float(bitPattern: sign) }
            // Subnormal: fraction * 2^-24. Shift the leading 1 up to the implicit bit, lowering the exponent.
            var unbiased: Int32 = -14
            while fraction & 0x400 == 0 {
                fraction <<= 1
                unbiased -= 1
            }
            return Float(bitPattern: sign | UInt32(unbiased + 127) << 23 | (fraction & 0x3ff) << 13)
        default:
            return Float(bitPattern: sign | (exponent + 127 - 15) << 23 | fraction << 13)
        }
    }

    /// bfloat16 is the upper half of a Float32.
    static func float(fromBF16 bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }
}
