//! The built-in templates, one TOML file each in `builtin/`, written in the same format as a
//! TEMPLATES_FILE template (so every rule that checks a custom template checks them too, and
//! the files are what a translator edits).

use super::file::{self, Place};
use super::spec::TemplateSpec;

/// How problems in a built-in template name their source (they are bugs: a test loads them).
pub const SOURCE: &str = "built-in templates";

/// The name of the template the original service spoke, used when nothing else is chosen.
pub const DEFAULT_TEMPLATE: &str = "default";

/// Name and TOML text of every built-in template, in the order they are listed.
const TEMPLATES: [(&str, &str); 6] = [
    ("default", include_str!("builtin/default.toml")),
    ("medical", include_str!("builtin/medical.toml")),
    ("restaurant", include_str!("builtin/restaurant.toml")),
    ("salon", include_str!("builtin/salon.toml")),
    (
        "vehicle_service",
        include_str!("builtin/vehicle_service.toml"),
    ),
    ("professional", include_str!("builtin/professional.toml")),
];

/// The names of the built-in templates.
pub fn names() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|(name, _)| *name)
}

/// Parses every built-in template.
pub fn specs(problems: &mut Vec<String>) -> Vec<(&'static str, TemplateSpec)> {
    TEMPLATES
        .iter()
        .filter_map(|(name, text)| {
            let place = Place {
                file: SOURCE,
                template: Some(name),
            };
            match toml::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(fields)) => {
                    Some((*name, file::template(place, &fields, problems)))
                }
                Ok(_) => None,
                Err(error) => {
                    problems.push(format!(
                        "{SOURCE}: template \"{name}\": invalid TOML: {error}"
                    ));
                    None
                }
            }
        })
        .collect()
}
