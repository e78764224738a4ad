//! Metadata that integrators keep on an organization or a membership: two JSON objects, `public`
//! (every member reads it) and `private` (admins and owners only). Both are written by admins
//! and owners with JSON Merge Patch (RFC 7396), and each must stay an object of bounded size and
//! depth. The rules here decide on whole values; the store makes sure the value they decided on
//! is the one it replaces (see `docs/data-model.md`).

use serde_json::{Map, Value};

use super::payloads::MetadataKeys;
use super::{Denied, FieldErrors, Standing, ValidationError};

/// How deeply objects and arrays may nest, the metadata object itself being the first level.
pub const MAX_DEPTH: usize = 5;

/// One kind's metadata: a JSON object.
pub type Object = Map<String, Value>;

/// An organization's or a membership's metadata, as stored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metadata {
    pub public: Object,
    pub private: Object,
}

/// The two kinds, by who may read them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataKind {
    Public,
    Private,
}

impl MetadataKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataKind::Public => "public",
            MetadataKind::Private => "private",
        }
    }

    /// Every member reads public metadata; only admins and owners read private metadata.
    pub fn readable_by(self, viewer: impl super::Holds) -> bool {
        match self {
            MetadataKind::Public => true,
            MetadataKind::Private => viewer.holds(super::Permission::MetadataPrivateRead),
        }
    }
}

/// Only active admins and owners write metadata, of either kind, on the organization and on any
/// membership (their own included): it is the integrator's data, not a right in the organization.
pub fn may_write_metadata(caller: Standing) -> Result<(), Denied> {
    if caller.status == super::MemberStatus::Active
        && caller.held.holds(super::Permission::MetadataPrivateUpdate)
    {
        Ok(())
    } else {
        Err(Denied::RoleTooLow)
    }
}

/// What a viewer with `role` is shown of `metadata`: the kinds they may read.
pub fn visible_metadata(
    metadata: &Metadata,
    viewer: impl super::Holds,
) -> (&Object, Option<&Object>) {
    let private = MetadataKind::Private
        .readable_by(viewer)
        .then_some(&metadata.private);
    (&metadata.public, private)
}

/// A request's merge patches, each kind's an object, checked for shape only: whether the result
/// fits is known once it is merged with what is stored (`MetadataPatch::apply`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetadataPatch {
    pub public: Option<Object>,
    pub private: Option<Object>,
}

/// The metadata after a patch, and which top-level keys of each kind it changed.
#[derive(Clone, Debug, PartialEq)]
pub struct MetadataChange {
    pub metadata: Metadata,
    pub public_keys: Vec<String>,
    pub private_keys: Vec<String>,
}

impl MetadataChange {
    /// Whether the kind's value changed, so has to be written.
    pub fn changed(&self, kind: MetadataKind) -> bool {
        !self.keys(kind).is_empty()
    }

    pub fn keys(&self, kind: MetadataKind) -> &[String] {
        match kind {
            MetadataKind::Public => &self.public_keys,
            MetadataKind::Private => &self.private_keys,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.public_keys.is_empty() && self.private_keys.is_empty()
    }

    /// The names of the changed keys, per kind, for the audit entry and the event: never the
    /// values, which may be private.
    pub fn changed_keys(&self) -> MetadataKeys {
        MetadataKeys {
            public: self.public_keys.clone(),
            private: self.private_keys.clone(),
        }
    }

    /// The same names, as the JSON the event carries.
    pub fn key_names(&self) -> Value {
        serde_json::to_value(self.changed_keys()).expect("key names are always JSON")
    }
}

impl MetadataPatch {
    /// Each kind's patch must be a JSON object (`null` or any other value is refused: a kind
    /// is always an object, and its keys are removed one by one with `null`).
    pub fn parse(public: Option<Value>, private: Option<Value>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut object = |kind: MetadataKind, value: Option<Value>| match value {
            None => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => {
                errors.push(ValidationError::new(
                    &field(kind),
                    "not_an_object",
                    "Metadata is a JSON object; set a key to null to remove it.",
                ));
                None
            }
        };
        let public = object(MetadataKind::Public, public);
        let private = object(MetadataKind::Private, private);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self { public, private })
    }

    pub fn is_empty(&self) -> bool {
        self.public.is_none() && self.private.is_none()
    }

    /// Merges each kind's patch into `current` (RFC 7396) and checks the results: each at most
    /// `max_bytes` of compact JSON and `MAX_DEPTH` levels deep. Refused as a whole, with every
    /// kind that does not fit named.
    pub fn apply(
        &self,
        current: &Metadata,
        max_bytes: usize,
    ) -> Result<MetadataChange, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut merged = current.clone();
        let mut keys = [Vec::new(), Vec::new()];
        for (i, kind) in [MetadataKind::Public, MetadataKind::Private]
            .into_iter()
            .enumerate()
        {
            let (patch, target) = match kind {
                MetadataKind::Public => (&self.public, &mut merged.public),
                MetadataKind::Private => (&self.private, &mut merged.private),
            };
            let Some(patch) = patch else { continue };
            let before = target.clone();
            let mut value = Value::Object(std::mem::take(target));
            json_patch::merge(&mut value, &Value::Object(patch.clone()));
            let Value::Object(after) = value else {
                unreachable!("an object merged with an object patch stays an object")
            };
            if let Err(error) = check(kind, &after, max_bytes) {
                errors.push(error);
            }
            keys[i] = changed_keys(&before, &after);
            *target = after;
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let [public_keys, private_keys] = keys;
        Ok(MetadataChange {
            metadata: merged,
            public_keys,
            private_keys,
        })
    }
}

fn field(kind: MetadataKind) -> String {
    format!("metadata.{}", kind.as_str())
}

fn check(kind: MetadataKind, value: &Object, max_bytes: usize) -> Result<(), ValidationError> {
    let value = Value::Object(value.clone());
    if depth(&value) > MAX_DEPTH {
        return Err(ValidationError::new(
            &field(kind),
            "too_deep",
            &format!("Metadata nests objects and arrays at most {MAX_DEPTH} levels deep."),
        ));
    }
    let bytes = serde_json::to_vec(&value)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if bytes > max_bytes {
        return Err(ValidationError::new(
            &field(kind),
            "too_large",
            &format!(
                "Each kind of metadata is at most {max_bytes} bytes of JSON; this would be {bytes}."
            ),
        ));
    }
    Ok(())
}

/// Levels of objects and arrays: a scalar is 0, `{}` is 1, `{"a": []}` is 2.
fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The top-level keys whose value differs between `before` and `after`, sorted.
fn changed_keys(before: &Object, after: &Object) -> Vec<String> {
    let mut keys: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::MemberStatus;
    use crate::domain::Role;

    fn object(value: Value) -> Object {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn stored(public: Value, private: Value) -> Metadata {
        Metadata {
            public: object(public),
            private: object(private),
        }
    }

    fn patch(public: Option<Value>, private: Option<Value>) -> MetadataPatch {
        MetadataPatch::parse(public, private).unwrap()
    }

    #[test]
    fn a_patch_merges_nested_objects_and_removes_keys_set_to_null() {
        let current = stored(
            json!({"plan": "pro", "limits": {"seats": 5, "sso": true}, "old": 1}),
            json!({"stripe": "cus_1"}),
        );
        let change = patch(
            Some(json!({"limits": {"seats": 10, "sso": null}, "old": null, "new": [1, 2]})),
            None,
        )
        .apply(&current, 8192)
        .unwrap();
        assert_eq!(
            Value::Object(change.metadata.public.clone()),
            json!({"plan": "pro", "limits": {"seats": 10}, "new": [1, 2]})
        );
        assert_eq!(change.metadata.private, current.private);
        assert_eq!(change.public_keys, ["limits", "new", "old"]);
        assert!(change.private_keys.is_empty());
        assert!(!change.changed(MetadataKind::Private));
    }

    #[test]
    fn a_patch_that_sets_what_is_already_there_changes_nothing() {
        let current = stored(json!({"plan": "pro"}), json!({}));
        let change = patch(Some(json!({"plan": "pro", "gone": null})), Some(json!({})))
            .apply(&current, 8192)
            .unwrap();
        assert!(change.is_empty());
        assert_eq!(change.metadata, current);
    }

    #[test]
    fn each_kind_is_an_object() {
        for bad in [json!(null), json!("x"), json!([1]), json!(3)] {
            let errors = MetadataPatch::parse(None, Some(bad))
                .unwrap_err()
                .into_vec();
            assert_eq!(
                (errors[0].field.as_str(), errors[0].code),
                ("metadata.private", "not_an_object")
            );
        }
        let errors = MetadataPatch::parse(Some(json!(1)), Some(json!(true)))
            .unwrap_err()
            .into_vec();
        assert_eq!(errors.len(), 2);
        assert!(MetadataPatch::parse(None, None).unwrap().is_empty());
    }

    #[test]
    fn the_size_limit_counts_the_merged_value_in_compact_json() {
        // {"k":"…"} is 8 bytes around the string.
        let current = stored(json!({"k": "x".repeat(50)}), json!({}));
        let fits = patch(Some(json!({"j": "y".repeat(30)})), None);
        // 58 + "j":"…" with a comma (7 + 30) = 95.
        assert!(fits.apply(&current, 95).is_ok());
        let errors = fits.apply(&current, 94).unwrap_err().into_vec();
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("metadata.public", "too_large")
        );
        // Removing a key makes room.
        let shrink = patch(Some(json!({"k": null, "j": "y".repeat(30)})), None);
        assert!(shrink.apply(&current, 40).is_ok());
    }

    #[test]
    fn nesting_is_bounded_counting_the_metadata_object_itself() {
        let current = Metadata::default();
        let deepest = json!({"a": {"b": {"c": {"d": [1]}}}});
        assert!(patch(Some(deepest), None).apply(&current, 8192).is_ok());
        let too_deep = json!({"a": {"b": {"c": {"d": [[1]]}}}});
        let errors = patch(None, Some(too_deep))
            .apply(&current, 8192)
            .unwrap_err()
            .into_vec();
        assert_eq!(
            (errors[0].field.as_str(), errors[0].code),
            ("metadata.private", "too_deep")
        );
    }

    #[test]
    fn members_read_public_metadata_and_admins_and_owners_both() {
        let metadata = stored(json!({"plan": "pro"}), json!({"stripe": "cus_1"}));
        let (public, private) = visible_metadata(&metadata, Role::Member);
        assert_eq!(public, &metadata.public);
        assert_eq!(private, None);
        for role in [Role::Admin, Role::Owner] {
            assert_eq!(visible_metadata(&metadata, role).1, Some(&metadata.private));
        }
    }

    #[test]
    fn only_active_admins_and_owners_write_metadata() {
        let standing = Standing::of;
        assert_eq!(
            may_write_metadata(standing(Role::Admin, MemberStatus::Active)),
            Ok(())
        );
        assert_eq!(
            may_write_metadata(standing(Role::Owner, MemberStatus::Active)),
            Ok(())
        );
        for (role, status) in [
            (Role::Member, MemberStatus::Active),
            (Role::Owner, MemberStatus::Deactivated),
        ] {
            assert_eq!(
                may_write_metadata(standing(role, status)),
                Err(Denied::RoleTooLow)
            );
        }
    }

    #[test]
    fn events_name_the_changed_keys_only() {
        let change = patch(None, Some(json!({"secret": "s3cr3t"})))
            .apply(&Metadata::default(), 8192)
            .unwrap();
        assert_eq!(
            change.key_names(),
            json!({"public": [], "private": ["secret"]})
        );
    }
}
