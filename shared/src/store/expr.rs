//! Condition and update expressions, with their `#name` and `:value` placeholders, for
//! transactions (`tx.rs`) and single requests alike.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::error::Refusal;

/// An expression with its `#name` and `:value` placeholders.
#[derive(Default)]
pub struct Expr {
    pub text: String,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
    pub fn append(mut self, more: &str) -> Self {
        self.text.push_str(more);
        self
    }
    /// The expression text and its placeholders, for a request other than a transaction.
    pub fn into_parts(
        self,
    ) -> (
        String,
        HashMap<String, String>,
        HashMap<String, AttributeValue>,
    ) {
        (self.text, self.names, self.values)
    }
    pub fn name(mut self, placeholder: &str, name: &str) -> Self {
        self.names.insert(placeholder.to_owned(), name.to_owned());
        self
    }
    pub fn value(mut self, placeholder: &str, value: AttributeValue) -> Self {
        self.values.insert(placeholder.to_owned(), value);
        self
    }
}

/// A condition on one item, and what its failure means to the caller.
pub struct Condition {
    pub expr: Expr,
    pub refusal: Refusal,
}

impl Condition {
    pub fn new(expr: Expr, refusal: Refusal) -> Self {
        Self { expr, refusal }
    }
    /// The item must not exist yet.
    pub fn absent(refusal: Refusal) -> Self {
        Self::new(Expr::new("attribute_not_exists(pk)"), refusal)
    }
    /// The item must exist.
    pub fn present(refusal: Refusal) -> Self {
        Self::new(Expr::new("attribute_exists(pk)"), refusal)
    }
}

type Placeholders = (
    Option<HashMap<String, String>>,
    Option<HashMap<String, AttributeValue>>,
);

/// Merges an update's placeholders with its condition's; `None` where there are none, as the
/// API refuses empty maps.
pub(super) fn placeholders(
    update: Option<Expr>,
    condition: Option<&mut Condition>,
) -> Placeholders {
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    if let Some(e) = update {
        names.extend(e.names);
        values.extend(e.values);
    }
    if let Some(c) = condition {
        names.extend(std::mem::take(&mut c.expr.names));
        values.extend(std::mem::take(&mut c.expr.values));
    }
    (
        (!names.is_empty()).then_some(names),
        (!values.is_empty()).then_some(values),
    )
}
