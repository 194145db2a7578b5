//! Phone numbers as the simulated platform sees them: the MSISDN rule it accepts, the `+` form of its webhooks, country codes.

/// `^\+?[1-9][0-9]{6,14}$`: what the simulator accepts as an MSISDN (CONTRACT §9.4).
pub fn is_msisdn(raw: &str) -> bool {
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// The `+`-prefixed form every 8x8 webhook uses.
pub fn e164(msisdn: &str) -> String {
    format!("+{}", msisdn.trim_start_matches('+'))
}

/// ISO 3166-1 alpha-2 country of a number by its calling-code prefix (a small table: the
/// countries the docs and the demos use); `ZZ` (ISO's "unknown") otherwise.
pub fn country_code(msisdn: &str) -> &'static str {
    // Longest prefixes first, so that +852 is Hong Kong and not +85 something.
    const PREFIXES: &[(&str, &str)] = &[
        ("971", "AE"),
        ("966", "SA"),
        ("886", "TW"),
        ("880", "BD"),
        ("852", "HK"),
        ("353", "IE"),
        ("351", "PT"),
        ("234", "NG"),
        ("254", "KE"),
        ("212", "MA"),
        ("94", "LK"),
        ("92", "PK"),
        ("91", "IN"),
        ("90", "TR"),
        ("86", "CN"),
        ("84", "VN"),
        ("82", "KR"),
        ("81", "JP"),
        ("66", "TH"),
        ("65", "SG"),
        ("64", "NZ"),
        ("63", "PH"),
        ("62", "ID"),
        ("61", "AU"),
        ("60", "MY"),
        ("55", "BR"),
        ("52", "MX"),
        ("49", "DE"),
        ("48", "PL"),
        ("47", "NO"),
        ("46", "SE"),
        ("45", "DK"),
        ("44", "GB"),
        ("41", "CH"),
        ("39", "IT"),
        ("34", "ES"),
        ("33", "FR"),
        ("32", "BE"),
        ("31", "NL"),
        ("27", "ZA"),
        ("20", "EG"),
        ("7", "RU"),
        ("1", "US"),
    ];
    let digits = msisdn.trim_start_matches('+');
    PREFIXES
        .iter()
        .find(|(prefix, _)| digits.starts_with(prefix))
        .map_or("ZZ", |(_, country)| country)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msisdns_follow_the_documented_pattern() {
        for good in ["+6591178965", "6512345678", "1234567", "+123456789012345"] {
            assert!(is_msisdn(good), "{good}");
        }
        for bad in [
            "",
            "+",
            "123456",
            "+0591178965",
            "1234567890123456",
            "+65 9117 8965",
            "{{Number to Call}}",
            "++6591178965",
        ] {
            assert!(!is_msisdn(bad), "{bad}");
        }
    }

    #[test]
    fn webhook_numbers_carry_a_plus_and_a_country() {
        assert_eq!(e164("6591178965"), "+6591178965");
        assert_eq!(e164("+6591178965"), "+6591178965");
        assert_eq!(country_code("+6591178965"), "SG");
        assert_eq!(country_code("15550001"), "US");
        assert_eq!(country_code("+85212345678"), "HK");
        assert_eq!(country_code("+99912345678"), "ZZ");
    }
}
