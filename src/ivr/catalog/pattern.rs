//! The little language of template texts: `{placeholder}`s and optional `[...|...]` sections.
//!
//! `{business}`, `{date}`, `{time}`, `{weekday}`, `{customer}`, `{staff}` and `{callback}` are
//! replaced by the call's values. A section in square brackets is spoken only if every
//! placeholder in it has a value; `|` separates alternatives, the first that can be spoken
//! wins: `[{customer}, we|We] have a table for you` greets by name when the request has one.
//! A placeholder outside brackets is required: the request must supply it. Texts are parsed
//! once, when the catalog is loaded, so a typo is refused at startup and a call can never
//! speak a literal `{...}`.

use std::collections::BTreeSet;
use std::sync::Arc;

/// A value a template can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Placeholder {
    Business,
    Date,
    Time,
    Weekday,
    Customer,
    Staff,
    Callback,
}

impl Placeholder {
    pub const ALL: [Placeholder; 7] = [
        Placeholder::Business,
        Placeholder::Date,
        Placeholder::Time,
        Placeholder::Weekday,
        Placeholder::Customer,
        Placeholder::Staff,
        Placeholder::Callback,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Business => "business",
            Placeholder::Date => "date",
            Placeholder::Time => "time",
            Placeholder::Weekday => "weekday",
            Placeholder::Customer => "customer",
            Placeholder::Staff => "staff",
            Placeholder::Callback => "callback",
        }
    }

    fn from_name(name: &str) -> Option<Placeholder> {
        Placeholder::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The request field that supplies a value a call may lack; `None` for values every call
    /// has (the business and the appointment).
    pub fn request_field(self) -> Option<&'static str> {
        match self {
            Placeholder::Customer => Some("customerName"),
            Placeholder::Staff => Some("staffName"),
            Placeholder::Callback => Some("callbackPhone"),
            _ => None,
        }
    }

    /// Names of people, which a stranger or a voicemail must not hear first, and a `minimal`
    /// template never speaks.
    pub fn is_personal(self) -> bool {
        matches!(self, Placeholder::Customer | Placeholder::Staff)
    }

    /// `{business}, {date}, ...` for error messages.
    pub fn known_list() -> String {
        Placeholder::ALL
            .map(|p| format!("{{{}}}", p.name()))
            .join(", ")
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Text(String),
    Slot(Placeholder),
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Atom(Atom),
    /// `[a|b|c]`: the first alternative whose placeholders all have values, or nothing.
    Choice(Vec<Vec<Atom>>),
}

/// A parsed template text.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pieces: Vec<Piece>,
    /// The text, rendered once, when it has no placeholder: every call speaking it shares
    /// this one copy instead of keeping its own (most texts of a template are such).
    constant: Option<Arc<str>>,
}

/// Characters that end a sentence, in every supported script.
const SENTENCE_ENDS: &[char] = &['.', '!', '?', '。', '！', '？'];

impl Pattern {
    /// Parses a template text; the error says what is wrong in words a template author knows.
    pub fn parse(source: &str) -> Result<Pattern, String> {
        if let Some(bad) = source
            .chars()
            .find(|c| (c.is_control() && !c.is_whitespace()) || *c == '<' || *c == '>')
        {
            return Err(format!(
                "contains {bad:?}; markup and control characters are not spoken (8x8 may refuse \
                 them)"
            ));
        }
        let mut pieces = Vec::new();
        let mut chars = source.chars().peekable();
        let mut text = String::new();
        // Inside `[...]`: the alternatives so far and the one being read.
        let mut choice: Option<(Vec<Vec<Atom>>, Vec<Atom>)> = None;

        let flush = |text: &mut String, target: &mut Vec<Atom>| {
            if !text.is_empty() {
                target.push(Atom::Text(std::mem::take(text)));
            }
        };

        while let Some(c) = chars.next() {
            match c {
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) if c == '{' || c == '[' || c == ']' || c == '|' => {
                                return Err(format!("{{ is not closed before {c:?}"));
                            }
                            Some(c) => name.push(c),
                            None => return Err("{ is not closed with }".to_owned()),
                        }
                    }
                    let slot = Placeholder::from_name(name.trim()).ok_or_else(|| {
                        format!(
                            "unknown placeholder {{{name}}}; known placeholders: {}",
                            Placeholder::known_list()
                        )
                    })?;
                    match &mut choice {
                        Some((_, current)) => {
                            flush(&mut text, current);
                            current.push(Atom::Slot(slot));
                        }
                        None => {
                            if !text.is_empty() {
                                pieces.push(Piece::Atom(Atom::Text(std::mem::take(&mut text))));
                            }
                            pieces.push(Piece::Atom(Atom::Slot(slot)));
                        }
                    }
                }
                '}' => return Err("} without a matching {".to_owned()),
                '[' => {
                    if choice.is_some() {
                        return Err("[ inside [...]: optional sections cannot be nested".to_owned());
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Atom(Atom::Text(std::mem::take(&mut text))));
                    }
                    choice = Some((Vec::new(), Vec::new()));
                }
                '|' => match &mut choice {
                    Some((alternatives, current)) => {
                        flush(&mut text, current);
                        alternatives.push(std::mem::take(current));
                    }
                    None => {
                        return Err("| outside [...]: alternatives live in brackets, \
                                    [{customer}, we|We]"
                            .to_owned());
                    }
                },
                ']' => match choice.take() {
                    Some((mut alternatives, mut current)) => {
                        flush(&mut text, &mut current);
                        alternatives.push(current);
                        pieces.push(Piece::Choice(alternatives));
                    }
                    None => return Err("] without a matching [".to_owned()),
                },
                c => text.push(c),
            }
        }
        if choice.is_some() {
            return Err("[ is not closed with ]".to_owned());
        }
        if !text.is_empty() {
            pieces.push(Piece::Atom(Atom::Text(text)));
        }
        let mut pattern = Pattern {
            pieces,
            constant: None,
        };
        if pattern.slots_in_order().is_empty() {
            pattern.constant = Some(Arc::from(pattern.render(|_| None)));
        }
        Ok(pattern)
    }

    /// Whether the text would say nothing at all.
    pub fn is_blank(&self) -> bool {
        self.pieces.iter().all(|piece| match piece {
            Piece::Atom(Atom::Text(text)) => text.trim().is_empty(),
            _ => false,
        })
    }

    /// Placeholders outside brackets: the request must supply them.
    pub fn required(&self) -> BTreeSet<Placeholder> {
        self.pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Atom(Atom::Slot(slot)) => Some(*slot),
                _ => None,
            })
            .collect()
    }

    /// Every placeholder, in or out of brackets.
    pub fn placeholders(&self) -> BTreeSet<Placeholder> {
        self.slots_in_order().into_iter().collect()
    }

    /// Placeholders in the order they appear, brackets included.
    fn slots_in_order(&self) -> Vec<Placeholder> {
        let mut slots = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Atom(Atom::Slot(slot)) => slots.push(*slot),
                Piece::Atom(Atom::Text(_)) => {}
                Piece::Choice(alternatives) => {
                    for atom in alternatives.iter().flatten() {
                        if let Atom::Slot(slot) = atom {
                            slots.push(*slot);
                        }
                    }
                }
            }
        }
        slots
    }

    /// Placeholders that may be spoken before the first sentence ends (what a stranger or a
    /// voicemail hears first). A full stop counts when followed by a space or the end of
    /// the text, so "7:30" or "3.5" do not end a sentence.
    pub fn first_sentence(&self) -> BTreeSet<Placeholder> {
        let mut slots = BTreeSet::new();
        let ends_sentence = |text: &str| {
            let chars: Vec<char> = text.chars().collect();
            chars.iter().enumerate().any(|(i, c)| {
                SENTENCE_ENDS.contains(c)
                    && (!c.is_ascii() || chars.get(i + 1).is_none_or(|n| n.is_whitespace()))
            })
        };
        for piece in &self.pieces {
            match piece {
                Piece::Atom(Atom::Slot(slot)) => {
                    slots.insert(*slot);
                }
                Piece::Atom(Atom::Text(text)) => {
                    if ends_sentence(text) {
                        return slots;
                    }
                }
                Piece::Choice(alternatives) => {
                    for atom in alternatives.iter().flatten() {
                        if let Atom::Slot(slot) = atom {
                            slots.insert(*slot);
                        }
                    }
                }
            }
        }
        slots
    }

    /// Whether `first` is spoken before any of `later` (vacuously true if none of them is).
    pub fn comes_before(&self, first: Placeholder, later: impl Fn(Placeholder) -> bool) -> bool {
        for slot in self.slots_in_order() {
            if slot == first {
                return true;
            }
            if later(slot) {
                return false;
            }
        }
        true
    }

    /// [`Pattern::render`] as a shared text: a text without placeholders is the same for
    /// every call, and every call gets the same copy of it.
    pub fn render_shared<'v>(&self, value: impl Fn(Placeholder) -> Option<&'v str>) -> Arc<str> {
        match &self.constant {
            Some(text) => Arc::clone(text),
            None => Arc::from(self.render(value)),
        }
    }

    /// The text with values filled in. Required placeholders without a value are left out
    /// (the catalog refuses such a call before rendering, so this never happens in a call).
    /// Whitespace runs collapse to one space, and a space left before `.` or `,` by a
    /// dropped section goes, so optional sections need no care about spacing.
    pub fn render<'v>(&self, value: impl Fn(Placeholder) -> Option<&'v str>) -> String {
        let mut out = String::new();
        let push_atom = |atom: &Atom, out: &mut String| match atom {
            Atom::Text(text) => out.push_str(text),
            Atom::Slot(slot) => out.push_str(value(*slot).unwrap_or_default()),
        };
        for piece in &self.pieces {
            match piece {
                Piece::Atom(atom) => push_atom(atom, &mut out),
                Piece::Choice(alternatives) => {
                    let spoken = alternatives.iter().find(|alternative| {
                        alternative.iter().all(|atom| match atom {
                            Atom::Slot(slot) => value(*slot).is_some_and(|v| !v.is_empty()),
                            Atom::Text(_) => true,
                        })
                    });
                    for atom in spoken.into_iter().flatten() {
                        push_atom(atom, &mut out);
                    }
                }
            }
        }
        tidy_spaces(&out)
    }
}

fn tidy_spaces(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.replace(" .", ".").replace(" ,", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(p: Placeholder) -> Option<&'static str> {
        match p {
            Placeholder::Business => Some("Bright Smile Dental"),
            Placeholder::Customer => Some("Jane"),
            Placeholder::Date => Some("April 20th, 2025"),
            _ => None,
        }
    }

    #[test]
    fn fills_placeholders_and_picks_the_first_alternative_that_has_its_values() {
        let pattern =
            Pattern::parse("[{customer}, we|We] booked {business}[ with {staff}].").unwrap();
        assert_eq!(
            pattern.render(values),
            "Jane, we booked Bright Smile Dental."
        );
        assert_eq!(
            pattern.render(|p| if p == Placeholder::Business {
                Some("X")
            } else {
                None
            }),
            "We booked X."
        );
    }

    #[test]
    fn a_text_without_placeholders_is_one_shared_copy_and_one_with_them_is_rendered_per_call() {
        let constant = Pattern::parse("Sorry, we did not get  that [here|there] .").unwrap();
        let first = constant.render_shared(values);
        let second = constant.render_shared(|_| None);
        assert_eq!(&*first, "Sorry, we did not get that here.");
        assert!(Arc::ptr_eq(&first, &second));

        let spoken = Pattern::parse("Hello {business}.").unwrap();
        let first = spoken.render_shared(values);
        let second = spoken.render_shared(values);
        assert_eq!(&*first, "Hello Bright Smile Dental.");
        assert!(!Arc::ptr_eq(&first, &second));
    }

    #[test]
    fn a_section_without_its_value_disappears_with_its_spaces() {
        let pattern = Pattern::parse("Hello [{staff} ]and {business} [{callback}] .").unwrap();
        assert_eq!(pattern.render(values), "Hello and Bright Smile Dental.");
    }

    #[test]
    fn an_empty_value_counts_as_missing() {
        let pattern = Pattern::parse("[Dear {customer}.|Hello.]").unwrap();
        assert_eq!(
            pattern.render(|p| (p == Placeholder::Customer).then_some("")),
            "Hello."
        );
    }

    #[test]
    fn required_placeholders_are_those_outside_brackets() {
        let pattern = Pattern::parse("{business} [{customer}|x] {date} {staff}").unwrap();
        assert_eq!(
            pattern.required(),
            BTreeSet::from([Placeholder::Business, Placeholder::Date, Placeholder::Staff])
        );
        assert!(pattern.placeholders().contains(&Placeholder::Customer));
    }

    #[test]
    fn the_first_sentence_ends_at_a_full_stop_followed_by_a_space_or_a_cjk_full_stop() {
        let english = Pattern::parse("Hi {business} at 7.30. Then {customer}.").unwrap();
        assert_eq!(
            english.first_sentence(),
            BTreeSet::from([Placeholder::Business])
        );
        let chinese = Pattern::parse("您好，这里是{business}。[尊敬的{customer}，]").unwrap();
        assert_eq!(
            chinese.first_sentence(),
            BTreeSet::from([Placeholder::Business])
        );
        let leaky = Pattern::parse("[{customer}, ]this is {business}.").unwrap();
        assert!(leaky.first_sentence().contains(&Placeholder::Customer));
        assert!(!leaky.comes_before(Placeholder::Business, Placeholder::is_personal));
    }

    #[test]
    fn malformed_texts_are_refused_with_a_reason() {
        let cases = [
            (
                "Hi {doctor}",
                "unknown placeholder {doctor}; known placeholders: {business}, {date}, {time}, {weekday}, {customer}, {staff}, {callback}",
            ),
            ("Hi {business", "{ is not closed with }"),
            ("Hi business}", "} without a matching {"),
            (
                "Hi [a [b]]",
                "[ inside [...]: optional sections cannot be nested",
            ),
            ("Hi [a", "[ is not closed with ]"),
            ("Hi a]", "] without a matching ["),
            (
                "Yes | no",
                "| outside [...]: alternatives live in brackets, [{customer}, we|We]",
            ),
            ("Hi {busi[ness}", "{ is not closed before '['"),
            (
                "<speak>Hi</speak>",
                "contains '<'; markup and control characters are not spoken (8x8 may refuse them)",
            ),
            (
                "Hi\u{7}",
                "contains '\\u{7}'; markup and control characters are not spoken (8x8 may refuse them)",
            ),
        ];
        for (source, expected) in cases {
            assert_eq!(Pattern::parse(source), Err(expected.to_owned()), "{source}");
        }
    }

    #[test]
    fn blank_texts_are_recognised() {
        assert!(Pattern::parse("  ").unwrap().is_blank());
        assert!(Pattern::parse("").unwrap().is_blank());
        assert!(!Pattern::parse("{business}").unwrap().is_blank());
    }
}
