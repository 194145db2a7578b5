//! Phone numbers as the service handles them: digits only, 7 to 15 of them, masked whenever shown.

use std::fmt;

/// A phone number reduced to its digits, as the original service sent them to 8x8.
///
/// Parsing strips every non-digit (spaces, dashes, brackets, the leading `+`) and then requires
/// 7 to 15 digits: the E.164 maximum is 15 and nothing shorter than 7 digits is dialable
/// internationally. `Display` and `Debug` never show the whole number: logs, errors and
/// panics only ever see `+65****4567`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(Box<str>);

/// Why a string is not a usable phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneNumberError {
    #[error("must contain 7 to 15 digits, found {0}")]
    WrongLength(usize),
}

impl PhoneNumber {
    pub const MIN_DIGITS: usize = 7;
    pub const MAX_DIGITS: usize = 15;

    pub fn parse(raw: &str) -> Result<Self, PhoneNumberError> {
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits.len()) {
            return Err(PhoneNumberError::WrongLength(digits.len()));
        }
        Ok(Self(digits.into_boxed_str()))
    }

    /// The bare digits, the form 8x8's `makeCall` receives from us.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `+` and the digits: the form 8x8 uses in its webhooks.
    pub fn e164(&self) -> String {
        format!("+{}", self.0)
    }

    /// The masked form used everywhere a number is shown: `+65****4567`.
    pub fn masked(&self) -> String {
        mask_digits(&self.0)
    }

    /// The last digit, which the simulator uses to pick the customer's behaviour.
    pub fn last_digit(&self) -> u8 {
        self.0.as_bytes()[self.0.len() - 1] - b'0'
    }
}

/// Masks any phone-like string: keeps a `+`, the first two and the last four digits.
///
/// Used for numbers that arrive from 8x8 and were never parsed into a [`PhoneNumber`].
pub fn mask_digits(raw: &str) -> String {
    let digits: Vec<char> = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() <= 6 {
        return "+****".to_owned();
    }
    let head: String = digits[..2].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("+{head}****{tail}")
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_every_non_digit() {
        let phone = PhoneNumber::parse("+65 (9123) 45-67").unwrap();
        assert_eq!(phone.digits(), "6591234567");
        assert_eq!(phone.e164(), "+6591234567");
    }

    #[test]
    fn accepts_seven_and_fifteen_digits() {
        assert_eq!(PhoneNumber::parse("1234567").unwrap().digits(), "1234567");
        assert_eq!(
            PhoneNumber::parse("+123456789012345").unwrap().digits(),
            "123456789012345"
        );
    }

    #[test]
    fn refuses_six_and_sixteen_digits() {
        assert_eq!(
            PhoneNumber::parse("123-456"),
            Err(PhoneNumberError::WrongLength(6))
        );
        assert_eq!(
            PhoneNumber::parse("1234567890123456"),
            Err(PhoneNumberError::WrongLength(16))
        );
        assert_eq!(
            PhoneNumber::parse("call me"),
            Err(PhoneNumberError::WrongLength(0))
        );
    }

    #[test]
    fn display_and_debug_are_masked() {
        let phone = PhoneNumber::parse("+6591234567").unwrap();
        assert_eq!(phone.to_string(), "+65****4567");
        assert_eq!(format!("{phone:?}"), "PhoneNumber(+65****4567)");
    }

    #[test]
    fn masks_raw_strings_and_short_ones() {
        assert_eq!(mask_digits("+6598888888"), "+65****8888");
        assert_eq!(mask_digits("12345"), "+****");
    }

    #[test]
    fn last_digit_is_the_final_digit() {
        assert_eq!(PhoneNumber::parse("+6591234567").unwrap().last_digit(), 7);
    }
}
