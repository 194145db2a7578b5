//! TEMPLATES_FILE: reads the TOML or YAML file (by extension) into template specs, naming
//! every problem by file, template and field, and collecting all of them before giving up.
//!
//! The file is parsed into a generic tree first and walked by hand (rather than derived with
//! serde) so that an unknown key, a wrong type or an unsupported language is reported with
//! its full path: `templates.toml: template "my_clinic", field "languages.es-ES.promt": ...`.

use super::spec::{FileSpec, MenuSpec, TemplateSpec, TextKey};
use crate::ivr::languages::Language;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::Path;

/// Where a problem is: the file (or "built-in templates") and the template, if any.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub file: &'a str,
    pub template: Option<&'a str>,
}

impl Place<'_> {
    /// `file: template "t", field "f": message`.
    pub fn problem(&self, field: &str, message: impl Display) -> String {
        match self.template {
            Some(template) => {
                format!(
                    "{}: template \"{template}\", field \"{field}\": {message}",
                    self.file
                )
            }
            None => format!("{}: field \"{field}\": {message}", self.file),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
}

/// Reads and parses a templates file; `None` (with problems) if it cannot be read or parsed.
pub fn read(path: &Path, problems: &mut Vec<String>) -> Option<FileSpec> {
    let file = path.display().to_string();
    let format = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
    {
        Some(ext) if ext == "toml" => Format::Toml,
        Some(ext) if ext == "yaml" || ext == "yml" => Format::Yaml,
        _ => {
            problems.push(format!(
                "{file}: unknown format; name the templates file *.toml, *.yaml or *.yml"
            ));
            return None;
        }
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            problems.push(format!("{file}: cannot be read: {error}"));
            return None;
        }
    };
    parse_document(&file, format, &text, problems)
}

/// Parses the text of a templates file.
pub fn parse_document(
    file: &str,
    format: Format,
    text: &str,
    problems: &mut Vec<String>,
) -> Option<FileSpec> {
    let tree: Value = match format {
        Format::Toml => toml::from_str(text).map_err(|e| format!("invalid TOML: {e}")),
        Format::Yaml => yaml_serde::from_str(text).map_err(|e| format!("invalid YAML: {e}")),
    }
    .map_err(|error| problems.push(format!("{file}: {}", error.trim_end())))
    .ok()?;
    let place = Place {
        file,
        template: None,
    };
    // An empty YAML document is `null`: a file with nothing to change.
    if tree.is_null() {
        return Some(FileSpec::default());
    }
    let Some(root) = tree.as_object() else {
        problems.push(format!("{file}: must be a table of settings and templates"));
        return None;
    };
    let mut spec = FileSpec::default();
    for (key, value) in root {
        match key.as_str() {
            "default_template" => spec.default_template = string(place, key, value, problems),
            "voice_profiles" => spec.voice_profiles = voice_profiles(place, key, value, problems),
            "templates" => {
                let Some(templates) = table(place, key, value, problems) else {
                    continue;
                };
                for (name, value) in templates {
                    if !is_template_name(name) {
                        problems.push(place.problem(
                            &format!("templates.{name}"),
                            "a template name is letters, digits, '_' and '-' (at most 64)",
                        ));
                        continue;
                    }
                    let place = Place {
                        file,
                        template: Some(name),
                    };
                    let Some(fields) = value.as_object() else {
                        problems.push(format!(
                            "{file}: template \"{name}\": must be a table of settings and texts"
                        ));
                        continue;
                    };
                    spec.templates
                        .push((name.clone(), template(place, fields, problems)));
                }
            }
            _ => problems.push(place.problem(
                key,
                "unknown setting; expected default_template, voice_profiles or templates",
            )),
        }
    }
    Some(spec)
}

/// A template's table: its settings and, per language, its texts.
pub fn template(
    place: Place<'_>,
    fields: &Map<String, Value>,
    problems: &mut Vec<String>,
) -> TemplateSpec {
    let mut spec = TemplateSpec::default();
    for (key, value) in fields {
        match key.as_str() {
            "extends" => spec.extends = string(place, key, value, problems),
            "description" => spec.description = string(place, key, value, problems),
            "minimal" => spec.minimal = boolean(place, key, value, problems),
            "speed" => match value.as_f64() {
                Some(speed) => spec.speed = Some(speed),
                None => {
                    problems.push(place.problem(key, format!("must be a number, found {value}")))
                }
            },
            "menu" => {
                let Some(menu) = table(place, key, value, problems) else {
                    continue;
                };
                let mut parsed = MenuSpec::default();
                for (option, value) in menu {
                    let field = format!("menu.{option}");
                    let slot = match option.as_str() {
                        "repeat" => &mut parsed.repeat,
                        "staff" => &mut parsed.staff,
                        "confirm_cancel" => &mut parsed.confirm_cancel,
                        _ => {
                            problems.push(place.problem(
                                &field,
                                "unknown menu option; expected repeat, staff or confirm_cancel",
                            ));
                            continue;
                        }
                    };
                    *slot = boolean(place, &field, value, problems);
                }
                spec.menu = parsed;
            }
            "voice_profiles" => spec.voice_profiles = voice_profiles(place, key, value, problems),
            "languages" => {
                let Some(languages) = table(place, key, value, problems) else {
                    continue;
                };
                for (tag, value) in languages {
                    let field = format!("languages.{tag}");
                    let Some(language) = language(place, &field, tag, problems) else {
                        continue;
                    };
                    if spec.languages.contains_key(&language) {
                        problems.push(
                            place.problem(&field, format!("{} is given twice", language.tag())),
                        );
                        continue;
                    }
                    let Some(texts) = table(place, &field, value, problems) else {
                        continue;
                    };
                    let mut parsed = BTreeMap::new();
                    for (key, value) in texts {
                        let field = format!("languages.{}.{key}", language.tag());
                        let Some(text_key) = TextKey::parse(key) else {
                            problems.push(place.problem(
                                &field,
                                format!(
                                    "unknown text; expected one of {}",
                                    TextKey::ALL.map(TextKey::key).join(", ")
                                ),
                            ));
                            continue;
                        };
                        if let Some(text) = string(place, &field, value, problems) {
                            parsed.insert(text_key, text);
                        }
                    }
                    spec.languages.insert(language, parsed);
                }
            }
            _ => problems.push(place.problem(
                key,
                "unknown setting; expected extends, description, minimal, speed, menu, \
                 voice_profiles or languages",
            )),
        }
    }
    spec
}

fn is_template_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn language(
    place: Place<'_>,
    field: &str,
    tag: &str,
    problems: &mut Vec<String>,
) -> Option<Language> {
    let language = Language::parse(tag);
    if language.is_none() {
        problems.push(place.problem(
            field,
            format!(
                "unsupported language {tag:?}; supported languages: {}",
                Language::supported_tags()
            ),
        ));
    }
    language
}

fn voice_profiles(
    place: Place<'_>,
    key: &str,
    value: &Value,
    problems: &mut Vec<String>,
) -> BTreeMap<Language, String> {
    let mut profiles = BTreeMap::new();
    for (tag, value) in table(place, key, value, problems).into_iter().flatten() {
        let field = format!("{key}.{tag}");
        if let (Some(language), Some(profile)) = (
            language(place, &field, tag, problems),
            string(place, &field, value, problems),
        ) {
            profiles.insert(language, profile);
        }
    }
    profiles
}

fn table<'v>(
    place: Place<'_>,
    field: &str,
    value: &'v Value,
    problems: &mut Vec<String>,
) -> Option<&'v Map<String, Value>> {
    let table = value.as_object();
    if table.is_none() {
        problems.push(place.problem(field, format!("must be a table, found {value}")));
    }
    table
}

fn string(
    place: Place<'_>,
    field: &str,
    value: &Value,
    problems: &mut Vec<String>,
) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        _ => {
            problems.push(place.problem(field, format!("must be text, found {value}")));
            None
        }
    }
}

fn boolean(
    place: Place<'_>,
    field: &str,
    value: &Value,
    problems: &mut Vec<String>,
) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        _ => {
            problems.push(place.problem(field, format!("must be true or false, found {value}")));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: Format, text: &str) -> (Option<FileSpec>, Vec<String>) {
        let mut problems = Vec::new();
        let spec = parse_document("t.toml", format, text, &mut problems);
        (spec, problems)
    }

    #[test]
    fn toml_and_yaml_give_the_same_spec() {
        let toml = r#"
            default_template = "mine"
            [voice_profiles]
            en-gb = "en-GB-Emma"
            [templates.mine]
            extends = "medical"
            speed = 1
            menu = { staff = false }
            [templates.mine.languages.en-US]
            confirmed = "Thanks."
        "#;
        let yaml = r#"
default_template: mine
voice_profiles:
  en-gb: en-GB-Emma
templates:
  mine:
    extends: medical
    speed: 1
    menu:
      staff: false
    languages:
      en-US:
        confirmed: Thanks.
"#;
        let (from_toml, toml_problems) = parse(Format::Toml, toml);
        let (from_yaml, yaml_problems) = parse(Format::Yaml, yaml);
        assert_eq!(toml_problems, Vec::<String>::new());
        assert_eq!(yaml_problems, Vec::<String>::new());
        assert_eq!(from_toml, from_yaml);
        let spec = from_toml.unwrap();
        assert_eq!(spec.voice_profiles[&Language::EnGb], "en-GB-Emma");
        let (name, mine) = &spec.templates[0];
        assert_eq!(name, "mine");
        assert_eq!(mine.speed, Some(1.0));
        assert_eq!(mine.menu.staff, Some(false));
        assert_eq!(
            mine.languages[&Language::EnUs][&TextKey::Confirmed],
            "Thanks."
        );
    }

    #[test]
    fn every_wrong_key_and_type_is_named_with_its_path() {
        let (_, problems) = parse(
            Format::Toml,
            r#"
            colour = "blue"
            [templates.x]
            minimal = "yes"
            speed = "fast"
            menu = { repeat = true, dance = true }
            [templates.x.languages.pt-BR]
            prompt = "Olá"
            [templates.x.languages.en-US]
            promt = "Hi"
            prompt = 3
            "#,
        );
        assert_eq!(
            problems,
            [
                "t.toml: field \"colour\": unknown setting; expected default_template, voice_profiles or templates",
                "t.toml: template \"x\", field \"languages.en-US.prompt\": must be text, found 3",
                "t.toml: template \"x\", field \"languages.en-US.promt\": unknown text; expected one of prompt, menu_confirm, menu_cancel, menu_staff, menu_repeat, callback, repeat_prefix, reprompt_prefix, confirm_cancel, confirmed, kept, cancelled, transferring, goodbye, failure_message",
                "t.toml: template \"x\", field \"languages.pt-BR\": unsupported language \"pt-BR\"; supported languages: en-US, en-GB, es-ES, fr-FR, de-DE, zh-CN, ja-JP",
                "t.toml: template \"x\", field \"menu.dance\": unknown menu option; expected repeat, staff or confirm_cancel",
                "t.toml: template \"x\", field \"minimal\": must be true or false, found \"yes\"",
                "t.toml: template \"x\", field \"speed\": must be a number, found \"fast\"",
            ]
        );
    }

    #[test]
    fn syntax_errors_name_the_file() {
        let (spec, problems) = parse(Format::Toml, "[templates\n");
        assert_eq!(spec, None);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("t.toml: invalid TOML: "),
            "{problems:?}"
        );
    }

    #[test]
    fn an_empty_file_changes_nothing() {
        assert_eq!(parse(Format::Toml, ""), (Some(FileSpec::default()), vec![]));
        assert_eq!(parse(Format::Yaml, ""), (Some(FileSpec::default()), vec![]));
    }
}
