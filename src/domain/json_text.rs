//! `JsonText`: a JSON document kept as its text, checked once.
//!
//! Webhooks are stored as 8x8 sent them and replies as we sent them. Parsing them into a
//! `serde_json::Value` tree and writing them out again (for the store, for the answer) was
//! most of the webhook path's work: a tree is one allocation per key and value.

use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

/// Valid JSON text. Equality is JSON equality (PostgreSQL's JSONB gives back the same
/// document with its keys in another order and other spacing).
#[derive(Debug, Clone)]
pub struct JsonText(Box<RawValue>);

impl JsonText {
    /// Checks that `text` is one JSON document.
    pub fn parse(text: String) -> Result<JsonText, serde_json::Error> {
        RawValue::from_string(text).map(JsonText)
    }

    /// Checks that `bytes` are one JSON document (an HTTP body).
    pub fn from_slice(bytes: &[u8]) -> Result<JsonText, serde_json::Error> {
        serde_json::from_slice::<Box<RawValue>>(bytes).map(JsonText)
    }

    /// The JSON of a value (a reply we built).
    pub fn of<T: Serialize + ?Sized>(value: &T) -> Result<JsonText, serde_json::Error> {
        serde_json::value::to_raw_value(value).map(JsonText)
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// The document as a tree, for the rare reader that needs one.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.as_str()).unwrap_or(Value::Null)
    }
}

impl From<JsonText> for String {
    fn from(json: JsonText) -> String {
        Box::<str>::from(json.0).into_string()
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.as_str() == other.as_str() || self.to_value() == other.to_value()
    }
}

impl Serialize for JsonText {
    /// Written out as it is, without being parsed again.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_kept_and_written_out_as_it_came() {
        let json = JsonText::parse(r#"{"b": 1,  "a":[true]}"#.to_owned()).unwrap();
        assert_eq!(json.as_str(), r#"{"b": 1,  "a":[true]}"#);
        #[derive(Serialize)]
        struct Answer<'a> {
            x: &'a JsonText,
        }
        assert_eq!(
            serde_json::to_string(&Answer { x: &json }).unwrap(),
            r#"{"x":{"b": 1,  "a":[true]}}"#
        );
        assert_eq!(String::from(json), r#"{"b": 1,  "a":[true]}"#);
    }

    #[test]
    fn equality_is_json_equality() {
        let ours = JsonText::of(&json!({"clientActionId": "a", "callflow": []})).unwrap();
        let from_jsonb = JsonText::parse(r#"{"callflow": [], "clientActionId": "a"}"#.into());
        assert_eq!(ours, from_jsonb.unwrap());
        assert_ne!(ours, JsonText::of(&json!({"clientActionId": "b"})).unwrap());
    }

    #[test]
    fn only_one_json_document_is_accepted() {
        for bad in ["", "{", "{} {}", "nul"] {
            assert!(JsonText::parse(bad.to_owned()).is_err(), "{bad:?}");
        }
    }
}
