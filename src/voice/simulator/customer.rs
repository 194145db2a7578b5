//! The simulated customer: the last-digit behaviour table, scripted key sequences, and what the customer does next.

use std::collections::{HashMap, VecDeque};
use std::fmt;

/// One thing a customer does at one capture attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerInput {
    /// Presses these keys (`0`-`9`, `*`, `#`), in order.
    Keys(String),
    /// Presses nothing: the attempt times out.
    NoInput,
    /// Hangs up while the prompt of that attempt is playing.
    HangUp,
}

impl fmt::Display for CustomerInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerInput::Keys(keys) => f.write_str(keys),
            CustomerInput::NoInput => f.write_str("none"),
            CustomerInput::HangUp => f.write_str("hangup"),
        }
    }
}

/// What a scripted customer does, one input per capture attempt; when the script runs out the
/// customer presses nothing. A scripted customer always answers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomerScript {
    pub inputs: Vec<CustomerInput>,
}

impl CustomerScript {
    /// Parses `"9,1"`, `"none, 1"`, `"12#,hangup"`: comma-separated inputs, each a run of keys,
    /// `none` or `hangup`. Empty items are skipped; an empty spec is a silent customer.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut inputs = Vec::new();
        for item in spec
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
        {
            let input = match item.to_ascii_lowercase().as_str() {
                "none" => CustomerInput::NoInput,
                "hangup" => CustomerInput::HangUp,
                _ if item.chars().all(is_dtmf_key) => CustomerInput::Keys(item.to_owned()),
                _ => {
                    return Err(format!(
                        "{item:?} is not a customer input: use keys (0-9, *, #), none or hangup"
                    ));
                }
            };
            inputs.push(input);
        }
        Ok(CustomerScript { inputs })
    }
}

impl fmt::Display for CustomerScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.inputs.iter().map(ToString::to_string).collect();
        f.write_str(&items.join(","))
    }
}

fn is_dtmf_key(c: char) -> bool {
    c.is_ascii_digit() || c == '*' || c == '#'
}

/// Parses `"+15550001=9,1;+15550002=0,0"`: entries separated by `;`, newlines or spaces, each
/// `number=inputs`. Keys are normalised to the number's digits.
pub fn parse_customer_scripts(spec: &str) -> Result<HashMap<String, CustomerScript>, String> {
    // Splitting on whitespace too would cut "9, 1" in two, so a token without `=` continues
    // the inputs of the entry before it.
    let mut entries: Vec<(String, String)> = Vec::new();
    for token in spec
        .split(|c: char| c == ';' || c.is_whitespace())
        .filter(|token| !token.is_empty())
    {
        match token.split_once('=') {
            Some((number, inputs)) => entries.push((number.to_owned(), inputs.to_owned())),
            None => match entries.last_mut() {
                Some((_, inputs)) => {
                    inputs.push(',');
                    inputs.push_str(token);
                }
                None => {
                    return Err(format!(
                        "{token:?} does not start with a destination: use number=keys, e.g. +15550001=9,1"
                    ));
                }
            },
        }
    }
    let mut scripts = HashMap::new();
    for (number, inputs) in entries {
        let digits = destination_key(&number).ok_or_else(|| {
            format!(
                "{} is not a phone number: a destination has 7 to 15 digits",
                crate::domain::mask_digits(&number)
            )
        })?;
        let script = CustomerScript::parse(&inputs)?;
        scripts.insert(digits, script);
    }
    Ok(scripts)
}

/// The digits of a destination, the key scripted customers are stored under.
pub fn destination_key(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    (7..=15).contains(&digits.len()).then_some(digits)
}

/// How a destination's customer behaves, chosen when the call is dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// Answers and presses these inputs in turn (last digits 1, 0, 4, 5).
    Presses(&'static str, Vec<CustomerInput>),
    /// Rings out (last digit 2).
    NeverAnswers,
    /// Busy (last digit 3).
    Busy,
    /// The call fails (last digit 6).
    Fails,
    /// Answers and hangs up during the first prompt (last digit 7).
    HangsUpDuringFirstPrompt,
    /// No coverage for the destination (last digit 8).
    NoCoverage,
    /// Presses 1, and every webhook of the session is delivered twice (last digit 9).
    PressesOneWithDuplicateWebhooks,
    /// A scripted customer (configured or set through the admin API).
    Scripted(CustomerScript),
}

impl Behaviour {
    /// The behaviour for a destination: its script if it has one, else its last digit.
    pub fn for_destination(digits: &str, scripts: &HashMap<String, CustomerScript>) -> Self {
        if let Some(script) = scripts.get(digits) {
            return Behaviour::Scripted(script.clone());
        }
        let keys = |keys: &[&str]| -> Vec<CustomerInput> {
            keys.iter()
                .map(|k| CustomerInput::Keys((*k).to_owned()))
                .collect()
        };
        match digits.chars().last() {
            Some('1') => Behaviour::Presses("presses 1", keys(&["1"])),
            Some('0') => Behaviour::Presses("presses 0", keys(&["0"])),
            Some('2') => Behaviour::NeverAnswers,
            Some('3') => Behaviour::Busy,
            Some('4') => Behaviour::Presses("answers and presses nothing", Vec::new()),
            Some('5') => Behaviour::Presses("presses 7 then 1", keys(&["7", "1"])),
            Some('6') => Behaviour::Fails,
            Some('7') => Behaviour::HangsUpDuringFirstPrompt,
            Some('8') => Behaviour::NoCoverage,
            _ => Behaviour::PressesOneWithDuplicateWebhooks,
        }
    }

    /// A short description for the inspection API and the logs.
    pub fn describe(&self) -> String {
        match self {
            Behaviour::Presses(description, _) => (*description).to_owned(),
            Behaviour::NeverAnswers => "never answers".to_owned(),
            Behaviour::Busy => "busy".to_owned(),
            Behaviour::Fails => "call fails".to_owned(),
            Behaviour::HangsUpDuringFirstPrompt => {
                "answers and hangs up during the first prompt".to_owned()
            }
            Behaviour::NoCoverage => "no coverage".to_owned(),
            Behaviour::PressesOneWithDuplicateWebhooks => {
                "presses 1, every webhook delivered twice".to_owned()
            }
            Behaviour::Scripted(script) => format!("scripted: {script}"),
        }
    }

    /// Whether every webhook of the session is delivered twice.
    pub fn duplicates_webhooks(&self) -> bool {
        matches!(self, Behaviour::PressesOneWithDuplicateWebhooks)
    }

    /// The customer who answers the call, or `None` when the call is never answered.
    pub fn answering_customer(&self) -> Option<Customer> {
        let (inputs, hangs_up_at_first_prompt) = match self {
            Behaviour::Presses(_, inputs) => (inputs.clone(), false),
            Behaviour::PressesOneWithDuplicateWebhooks => {
                (vec![CustomerInput::Keys("1".to_owned())], false)
            }
            Behaviour::HangsUpDuringFirstPrompt => (Vec::new(), true),
            Behaviour::Scripted(script) => (script.inputs.clone(), false),
            Behaviour::NeverAnswers
            | Behaviour::Busy
            | Behaviour::Fails
            | Behaviour::NoCoverage => {
                return None;
            }
        };
        Some(Customer {
            inputs: inputs.into(),
            hangs_up_at_first_prompt,
            prompts_heard: 0,
        })
    }
}

/// The customer on an answered call: what they will press, and whether they hang up early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    inputs: VecDeque<CustomerInput>,
    hangs_up_at_first_prompt: bool,
    prompts_heard: usize,
}

impl Customer {
    /// The customer's input at the next capture attempt; nothing once the script ran out.
    pub fn next_input(&mut self) -> CustomerInput {
        self.inputs.pop_front().unwrap_or(CustomerInput::NoInput)
    }

    /// Called as a prompt starts: whether the customer hangs up during it.
    pub fn hangs_up_during_prompt(&mut self) -> bool {
        self.prompts_heard += 1;
        self.hangs_up_at_first_prompt && self.prompts_heard == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &str) -> CustomerInput {
        CustomerInput::Keys(k.to_owned())
    }

    #[test]
    fn a_script_reads_keys_none_and_hangup() {
        assert_eq!(
            CustomerScript::parse(" 9, none,12#, HangUp ,*").unwrap(),
            CustomerScript {
                inputs: vec![
                    keys("9"),
                    CustomerInput::NoInput,
                    keys("12#"),
                    CustomerInput::HangUp,
                    keys("*")
                ]
            }
        );
        assert_eq!(
            CustomerScript::parse("").unwrap(),
            CustomerScript::default()
        );
        assert!(CustomerScript::parse("9,x").is_err());
    }

    #[test]
    fn scripts_are_keyed_by_digits_and_accept_every_separator() {
        let error = parse_customer_scripts("+15550001=9,1;123=0").unwrap_err();
        assert_eq!(
            error,
            "+**** is not a phone number: a destination has 7 to 15 digits"
        );

        let scripts =
            parse_customer_scripts("+15550001=9,1;+15550002=0\n+15550003=9, 1  +15550004=hangup")
                .unwrap();
        assert_eq!(scripts.len(), 4);
        assert_eq!(scripts["15550001"].inputs, vec![keys("9"), keys("1")]);
        assert_eq!(scripts["15550002"].inputs, vec![keys("0")]);
        assert_eq!(scripts["15550003"].inputs, vec![keys("9"), keys("1")]);
        assert_eq!(scripts["15550004"].inputs, vec![CustomerInput::HangUp]);
        assert!(parse_customer_scripts("9,1").is_err());
        assert!(parse_customer_scripts("").unwrap().is_empty());
    }

    #[test]
    fn the_last_digit_picks_the_behaviour_unless_scripted() {
        let none = HashMap::new();
        assert_eq!(
            Behaviour::for_destination("6591230002", &none),
            Behaviour::NeverAnswers
        );
        assert_eq!(
            Behaviour::for_destination("6591230009", &none),
            Behaviour::PressesOneWithDuplicateWebhooks
        );
        let scripted = HashMap::from([(
            "6591230002".to_owned(),
            CustomerScript::parse("0,1").unwrap(),
        )]);
        let behaviour = Behaviour::for_destination("6591230002", &scripted);
        assert_eq!(behaviour.describe(), "scripted: 0,1");
        let mut customer = behaviour.answering_customer().unwrap();
        assert_eq!(customer.next_input(), keys("0"));
        assert_eq!(customer.next_input(), keys("1"));
        assert_eq!(customer.next_input(), CustomerInput::NoInput);
    }

    #[test]
    fn the_early_hanger_hangs_up_on_the_first_prompt_only() {
        let mut customer = Behaviour::HangsUpDuringFirstPrompt
            .answering_customer()
            .unwrap();
        assert!(customer.hangs_up_during_prompt());
        assert!(!customer.hangs_up_during_prompt());
    }
}
