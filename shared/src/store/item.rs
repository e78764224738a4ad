//! Reading and writing attribute maps.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::domain::Timestamp;

use super::error::StoreError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Builds an item from `(name, value)` pairs, leaving out absent optional values.
#[derive(Default)]
pub struct ItemBuilder(Item);

impl ItemBuilder {
    pub fn key(pk: String, sk: impl Into<String>) -> Self {
        let mut item = Item::new();
        item.insert(super::keys::PK.into(), s(pk));
        item.insert(super::keys::SK.into(), s(sk));
        Self(item)
    }
    pub fn s(mut self, name: &str, value: impl Into<String>) -> Self {
        self.0.insert(name.into(), s(value));
        self
    }
    pub fn opt_s(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.s(name, v),
            None => self,
        }
    }
    pub fn n(mut self, name: &str, value: impl ToString) -> Self {
        self.0.insert(name.into(), n(value));
        self
    }
    pub fn bool(mut self, name: &str, value: bool) -> Self {
        self.0.insert(name.into(), AttributeValue::Bool(value));
        self
    }
    /// A string set, left out when empty: DynamoDB has no empty sets.
    pub fn string_set(mut self, name: &str, values: impl IntoIterator<Item = String>) -> Self {
        let values: Vec<String> = values.into_iter().collect();
        if !values.is_empty() {
            self.0.insert(name.into(), AttributeValue::Ss(values));
        }
        self
    }
    pub fn build(self) -> Item {
        self.0
    }
}

/// Typed access to a stored item, naming the attribute when it is missing or mistyped.
pub struct Reader<'a>(pub &'a Item);

impl Reader<'_> {
    pub fn s(&self, name: &str) -> Result<String, StoreError> {
        self.opt_s(name)?
            .ok_or_else(|| StoreError::Corrupt(format!("missing attribute {name}")))
    }
    pub fn opt_s(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.0.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
            Some(_) => Err(StoreError::Corrupt(format!(
                "attribute {name} is not a string"
            ))),
        }
    }
    pub fn n(&self, name: &str) -> Result<i64, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => v
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("attribute {name} is not an integer"))),
            _ => Err(StoreError::Corrupt(format!("missing number {name}"))),
        }
    }
    pub fn opt_n(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(_) => self.n(name).map(Some),
        }
    }
    pub fn bool(&self, name: &str) -> Result<bool, StoreError> {
        match self.0.get(name) {
            Some(AttributeValue::Bool(v)) => Ok(*v),
            None => Ok(false),
            Some(_) => Err(StoreError::Corrupt(format!(
                "attribute {name} is not a boolean"
            ))),
        }
    }
    pub fn time(&self, name: &str) -> Result<Timestamp, StoreError> {
        self.parsed(name, Timestamp::parse)
    }
    /// A string set's members that `parse` accepts; none when the set is absent.
    pub fn string_set<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Vec<T> {
        match self.0.get(name) {
            Some(AttributeValue::Ss(values)) => values.iter().filter_map(|v| parse(v)).collect(),
            _ => Vec::new(),
        }
    }
    /// An optional stored value parsed with a domain parser, a refusal being corruption.
    pub fn opt_parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        self.opt_s(name)?
            .map(|raw| parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("{name} {raw:?}"))))
            .transpose()
    }
    /// Parses a stored value with a domain parser, treating a refusal as corruption.
    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, StoreError> {
        let raw = self.s(name)?;
        parse(&raw)
            .ok_or_else(|| StoreError::Corrupt(format!("attribute {name} has value {raw:?}")))
    }
}
