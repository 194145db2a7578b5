//! One shared copy of each name that every call's script repeats (its template, language tag
//! and voice profile), instead of one copy per call.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

/// The names handed out so far. They all come from the catalog (its templates, languages and
/// voices), so the set stays as small as the catalog however many calls are placed.
#[derive(Debug, Default)]
pub struct SharedNames(RwLock<BTreeSet<Arc<str>>>);

impl SharedNames {
    /// The shared copy of `name`, made on first use.
    pub fn get(&self, name: &str) -> Arc<str> {
        // A panic elsewhere cannot leave the set half-changed: it only ever gains entries.
        if let Some(shared) = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(name)
        {
            return Arc::clone(shared);
        }
        let mut names = self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(shared) = names.get(name) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(name);
        names.insert(Arc::clone(&shared));
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_name_is_the_same_copy_and_another_name_is_another() {
        let names = SharedNames::default();
        let first = names.get("en-US-BenjaminRUS");
        assert!(Arc::ptr_eq(&first, &names.get("en-US-BenjaminRUS")));
        let other = names.get("en-GB-Emma");
        assert_eq!((&*first, &*other), ("en-US-BenjaminRUS", "en-GB-Emma"));
        assert!(!Arc::ptr_eq(&first, &other));
    }
}
