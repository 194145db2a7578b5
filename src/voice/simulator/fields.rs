//! Reads the fields of one JSON object and words every problem as 8x8's JSON-schema validator does (`$.callflow[1].params.text: is missing but it is required`).

use crate::voice::simulator::codes::Rejection;
use serde_json::{Map, Value};

/// One JSON object under validation, with its JSON path for messages.
pub struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub fn new(path: impl Into<String>, map: &'a Map<String, Value>) -> Self {
        Fields {
            path: path.into(),
            map,
        }
    }

    /// The JSON path of a field of this object.
    pub fn path_of(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Whether the field is present with a non-null value.
    pub fn is_provided(&self, name: &str) -> bool {
        self.map.get(name).is_some_and(|value| !value.is_null())
    }

    pub fn required(&self, name: &str) -> Result<&'a Value, Rejection> {
        self.map.get(name).ok_or_else(|| {
            Rejection::invalid_entry(format!(
                "{}: is missing but it is required",
                self.path_of(name)
            ))
        })
    }

    pub fn required_string(&self, name: &str) -> Result<&'a str, Rejection> {
        let value = self.required(name)?;
        value
            .as_str()
            .ok_or_else(|| self.wrong_type(name, value, "string"))
    }

    pub fn required_object(&self, name: &str) -> Result<Fields<'a>, Rejection> {
        let value = self.required(name)?;
        match value {
            Value::Object(map) => Ok(Fields::new(self.path_of(name), map)),
            _ => Err(self.wrong_type(name, value, "object")),
        }
    }

    /// An optional, nullable string: absent and `null` are both `None`.
    pub fn optional_string(&self, name: &str) -> Result<Option<&'a str>, Rejection> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(value) => Err(self.wrong_type(name, value, "string")),
        }
    }

    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, Rejection> {
        match self.map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(value) => Err(self.wrong_type(name, value, "boolean")),
        }
    }

    /// An optional, nullable integer within `min..=max`.
    pub fn optional_integer(
        &self,
        name: &str,
        min: i64,
        max: Option<i64>,
    ) -> Result<Option<i64>, Rejection> {
        let value = match self.map.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(value) => value,
        };
        let Some(number) = value.as_i64() else {
            return Err(self.wrong_type(name, value, "integer"));
        };
        if number < min {
            return Err(self.out_of_range(name, "minimum", min));
        }
        if let Some(max) = max.filter(|max| number > *max) {
            return Err(self.out_of_range(name, "maximum", max));
        }
        Ok(Some(number))
    }

    /// An optional, nullable number (integer or float) within `min..=max`.
    pub fn optional_number(
        &self,
        name: &str,
        min: f64,
        max: f64,
    ) -> Result<Option<f64>, Rejection> {
        let value = match self.map.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(value) => value,
        };
        let Some(number) = value.as_f64() else {
            return Err(self.wrong_type(name, value, "number"));
        };
        if number < min {
            return Err(self.out_of_range(name, "minimum", min));
        }
        if number > max {
            return Err(self.out_of_range(name, "maximum", max));
        }
        Ok(Some(number))
    }

    /// A text of 1 to `max` characters (characters, not bytes).
    pub fn check_length(&self, name: &str, text: &str, max: usize) -> Result<(), Rejection> {
        let length = text.chars().count();
        if length == 0 {
            return Err(Rejection::invalid_entry(format!(
                "{}: must be at least 1 characters long",
                self.path_of(name)
            )));
        }
        if length > max {
            return Err(Rejection::invalid_entry(format!(
                "{}: may only be {max} characters long",
                self.path_of(name)
            )));
        }
        Ok(())
    }

    /// Strict mode: every field must be one of `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), Rejection> {
        match self.map.keys().find(|key| !allowed.contains(&key.as_str())) {
            None => Ok(()),
            Some(unknown) => Err(Rejection::invalid_entry(format!(
                "{}: is not defined in the schema and the schema does not allow additional properties",
                self.path_of(unknown)
            ))),
        }
    }

    pub fn wrong_type(&self, name: &str, value: &Value, expected: &str) -> Rejection {
        Rejection::invalid_entry(format!(
            "{}: {} found, {expected} expected",
            self.path_of(name),
            type_name(value)
        ))
    }

    fn out_of_range(&self, name: &str, bound: &str, limit: impl std::fmt::Display) -> Rejection {
        Rejection::invalid_entry(format!(
            "{}: must have a {bound} value of {limit}",
            self.path_of(name)
        ))
    }
}

/// The JSON-schema name of a value's type.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
