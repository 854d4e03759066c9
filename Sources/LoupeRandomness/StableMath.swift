/// `exp` and `log` from additions, multiplications, divisions and exact bit operations only.
///
/// The C library's versions may differ in the last bit between platforms (glibc, Darwin, musl),
/// and one differing bit in a price or a probability changes every byte that follows. IEEE 754
/// makes these operations exact-rounded everywhere, so these functions give the same result on
/// every machine. They are accurate to a few units in the last place, which is all a simulation
/// needs.
public enum StableMath {
    private static let ln2High = 6.931_471_803_691_238_164_90e-01
    private static let ln2Low = 1.908_214_929_270_587_700_02e-10
    private static let inverseLn2 = 1.442_695_040_888_963_387_00
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x > 709.78 { return .infinity }
        if x < -745.13 { return 0 }
        // x = k·ln 2 + r with |r| ≤ ln 2 / 2, so e^x = 2^k · e^r.
        let k = (x * inverseLn2).rounded()
        let r = (x - k * ln2High) - k * ln2Low
        // Taylor series of e^r to r^13/13! in Horner form: the remainder is below 1e-17 for
        // |r| ≤ 0.35. The coefficients are 1/n!, rounded to nearest, written exactly.
        var sum = 0x1.6124613a86d09p-33
        sum = sum * r + 0x1.1eed8eff8d898p-29
        sum = sum * r + 0x1.ae64567f544e4p-26
        sum = sum * r + 0x1.27e4fb7789f5cp-22
        sum = sum * r + 0x1.71de3a556c734p-19
        sum = sum * r + 0x1.a01a01a01a01ap-16
        sum = sum * r + 0x1.a01a01a01a01ap-13
        sum = sum * r + 0x1.6c16c16c16c17p-10
        sum = sum * r + 0x1.1111111111111p-7
        sum = sum * r + 0x1.5555555555555p-5
        sum = sum * r + 0x1.5555555555555p-3
        sum = sum * r + 0.5
        sum = sum * r + 1
        sum = sum * r + 1
        return scaled(sum, byPowerOfTwo: Int(k))
    }

    public static func log(_ x: Double) -> Double {
        if x.isNaN || x < 0 { return .nan }
        if x == 0 { return -.infinity }
        if x == .infinity { return x }
        // x = m · 2^e with m in [√½, √2).
        var exponent = Int(x.exponent)
        var mantissa = x.significand
        if mantissa > 1.414_213_562_373_095_1 {
            mantissa /= 2
            exponent += 1
        }
        // log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.172: the series needs 11 terms.
        let s = (mantissa - 1) / (mantissa + 1)
        let s2 = s * s
        // s²/3 + s⁴/5 + … + s²²/23, the coefficients 1/(2k+1) rounded to nearest, written exactly.
        var series = 0x1.642c8590b2164p-5 * s2
        series = (series + 0x1.8618618618618p-5) * s2
        series = (series + 0x1.af286bca1af28p-5) * s2
        series = (series + 0x1.e1e1e1e1e1e1ep-5) * s2
        series = (series + 0x1.1111111111111p-4) * s2
        series = (series + 0x1.3b13b13b13b14p-4) * s2
        series = (series + 0x1.745d1745d1746p-4) * s2
        series = (series + 0x1.c71c71c71c71cp-4) * s2
        series = (series + 0x1.2492492492492p-3) * s2
        series = (series + 0x1.999999999999ap-3) * s2
        series = (series + 0x1.5555555555555p-2) * s2
        let logMantissa = 2 * s + 2 * s * series
        let e = Double(exponent)
        return e * ln2High + (logMantissa + e * ln2Low)
    }

    /// 1 / (1 + e^−x).
    public static func sigmoid(_ x: Double) -> Double {
        1 / (1 + exp(-x))
    }

    private static func scaled(_ value: Double, byPowerOfTwo power: Int) -> Double {
        // Two steps keep each factor a normal number across the whole range of `exp`.
        let first = max(-1022, min(1023, power))
        let second = power - first
        var result = value * Double(sign: .plus, exponent: first, significand: 1)
        if second != 0 { result *= Double(sign: .plus, exponent: second, significand: 1) }
        return result
    }
}
