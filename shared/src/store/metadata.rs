//! Metadata on the organization and membership items: each kind as one JSON text attribute
//! (`metadata_public`, `metadata_private`; absent when empty) and a `metadata_version` that each
//! write of either kind raises by one, on the condition that it is still the version read.
//!
//! Why a version and whole values, not one `SET metadata.#key` per patched key: the size limit
//! is on the merged whole, which only a writer that knows the whole can check (DynamoDB's
//! `size()` of a map counts its entries, not its bytes), and a nested merge needs the stored
//! shape (`SET a.b` fails where `a` is not a map). So a patch is merged with what was read, the
//! result is checked and written whole, and a concurrent writer's change makes the condition
//! fail; the handler reads again and merges again (`Rereads`), so both patches land.

use serde_json::Value;

use crate::domain::metadata::Object;
use crate::domain::{Metadata, MetadataChange, MetadataKind, VersionedMetadata};

use super::backoff::Backoff;
use super::error::{Refusal, StoreError, StoreResult};
use super::item::{ItemBuilder, Reader, n, s};
use super::tx::{Condition, Expr};

const VERSION: &str = "metadata_version";

fn attribute(kind: MetadataKind) -> &'static str {
    match kind {
        MetadataKind::Public => "metadata_public",
        MetadataKind::Private => "metadata_private",
    }
}

const KINDS: [MetadataKind; 2] = [MetadataKind::Public, MetadataKind::Private];

fn kind_of(metadata: &Metadata, kind: MetadataKind) -> &Object {
    match kind {
        MetadataKind::Public => &metadata.public,
        MetadataKind::Private => &metadata.private,
    }
}

pub(super) fn read(r: &Reader<'_>) -> StoreResult<VersionedMetadata> {
    let object = |kind: MetadataKind| -> StoreResult<Object> {
        let name = attribute(kind);
        match r.opt_s(name)? {
            None => Ok(Object::new()),
            Some(text) => match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => Ok(map),
                _ => Err(StoreError::Corrupt(format!(
                    "attribute {name} is not a JSON object"
                ))),
            },
        }
    };
    Ok(VersionedMetadata {
        value: Metadata {
            public: object(MetadataKind::Public)?,
            private: object(MetadataKind::Private)?,
        },
        version: r.opt_n(VERSION)?.unwrap_or(0),
    })
}

/// A new item's metadata (its version is 0 until the first write).
pub(super) fn put(mut builder: ItemBuilder, metadata: &Metadata) -> ItemBuilder {
    for kind in KINDS {
        let object = kind_of(metadata, kind);
        if !object.is_empty() {
            builder = builder.s(attribute(kind), Value::Object(object.clone()).to_string());
        }
    }
    builder
}

/// Adds the writes of `change` to an update: each changed kind set whole (or removed when it
/// became empty), and the version raised.
pub(super) fn write(
    mut expr: Expr,
    sets: &mut Vec<String>,
    removes: &mut Vec<String>,
    change: &MetadataChange,
    seen_version: i64,
) -> Expr {
    for kind in KINDS.into_iter().filter(|k| change.changed(*k)) {
        let object = kind_of(&change.metadata, kind);
        let name = attribute(kind);
        if object.is_empty() {
            removes.push(name.to_owned());
        } else {
            sets.push(format!("{name} = :{name}"));
            expr = expr.value(
                &format!(":{name}"),
                s(Value::Object(object.clone()).to_string()),
            );
        }
    }
    sets.push(format!("{VERSION} = :next_version"));
    expr.value(":next_version", n(seen_version + 1))
}

/// `condition`, and also: the metadata is still at the version read. A failure of either is
/// `Refusal::MetadataChanged`, which the handler answers by reading again.
pub(super) fn unchanged_since(condition: Condition, seen_version: i64) -> Condition {
    let expr = if seen_version == 0 {
        condition
            .expr
            .append(&format!(" AND attribute_not_exists({VERSION})"))
    } else {
        condition
            .expr
            .append(&format!(" AND {VERSION} = :seen_version"))
            .value(":seen_version", n(seen_version))
    };
    Condition::new(expr, Refusal::MetadataChanged)
}

/// Reading again after a write of metadata met another one: within the request's time budget,
/// as conflicting transactions are (`Backoff::for_request`), then 503.
pub struct Rereads(Backoff);

impl Default for Rereads {
    fn default() -> Self {
        Self(Backoff::for_request())
    }
}

impl Rereads {
    /// `Ok` (after a jittered wait) when the write should be decided again on a fresh read;
    /// the error itself otherwise, or `Contended` once the budget is spent.
    pub async fn again(&mut self, error: StoreError) -> StoreResult<()> {
        match error {
            StoreError::Refused(Refusal::MetadataChanged) => {
                if self.0.wait().await {
                    Ok(())
                } else {
                    Err(StoreError::Contended {
                        context: "write metadata",
                        source: Box::new(error),
                    })
                }
            }
            other => Err(other),
        }
    }
}
