//! Reading one partition (of the table or an index) page by page, with an optional filter,
//! until a page of the caller's size is full; and the listing every `list_*` is made of.

use aws_sdk_dynamodb::types::AttributeValue;

use super::error::{StoreError, StoreResult};
use super::item::Item;
use super::tx::Expr;
use super::{Read, Store};

/// Which partition to read, and optionally only the sort keys with a prefix.
pub struct PartitionQuery<'a> {
    pub index: Option<&'static str>,
    /// `(attribute, value)` of the partition key.
    pub pk: (&'static str, &'a str),
    pub sk_prefix: Option<(&'static str, &'a str)>,
    /// Newest (highest sort key) first.
    pub descending: bool,
}

/// One page of a listing and where the next one starts, if there is one.
#[derive(Clone, Debug)]
pub struct Page<T, P> {
    pub items: Vec<T>,
    pub next: Option<P>,
}

/// How a listing turns what it read into records and where its next page starts.
pub struct Decode<T, P> {
    pub item: fn(&Item) -> StoreResult<T>,
    /// The position of a record, to start the next page after it.
    pub position: fn(&T) -> P,
}

impl Store {
    /// A page of up to `limit` records after `start`, with the position of its last one when
    /// more may follow.
    pub(crate) async fn list<T, P>(
        &self,
        query: PartitionQuery<'_>,
        filter: Option<Expr>,
        limit: usize,
        start: Option<Item>,
        decode: Decode<T, P>,
        context: &'static str,
    ) -> StoreResult<Page<T, P>> {
        let (items, more) = self
            .query_filtered(query, filter, limit, start, context)
            .await?;
        let items = items
            .iter()
            .map(decode.item)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = more.then(|| items.last().map(decode.position)).flatten();
        Ok(Page { items, next })
    }

    /// Up to `limit` matching items after `start`, and whether more may follow.
    pub(crate) async fn query_filtered(
        &self,
        query: PartitionQuery<'_>,
        filter: Option<Expr>,
        limit: usize,
        start: Option<Item>,
        context: &'static str,
    ) -> StoreResult<(Vec<Item>, bool)> {
        self.query_read(query, filter, limit, start, Read::Eventual, context)
            .await
    }

    /// The first `limit` items of a partition of the table (not of an index), as every write
    /// acknowledged before the read left them: what a sweep decides on.
    pub(crate) async fn query_consistent(
        &self,
        query: PartitionQuery<'_>,
        limit: usize,
        context: &'static str,
    ) -> StoreResult<Vec<Item>> {
        let (items, _) = self
            .query_read(query, None, limit, None, Read::Consistent, context)
            .await?;
        Ok(items)
    }

    async fn query_read(
        &self,
        query: PartitionQuery<'_>,
        filter: Option<Expr>,
        limit: usize,
        mut start: Option<Item>,
        read: Read,
        context: &'static str,
    ) -> StoreResult<(Vec<Item>, bool)> {
        let mut key_condition = "#qpk = :qpk".to_owned();
        let mut expr = filter
            .unwrap_or_default()
            .name("#qpk", query.pk.0)
            .value(":qpk", AttributeValue::S(query.pk.1.to_owned()));
        if let Some((name, prefix)) = query.sk_prefix {
            key_condition.push_str(" AND begins_with(#qsk, :qsk)");
            expr = expr
                .name("#qsk", name)
                .value(":qsk", AttributeValue::S(prefix.to_owned()));
        }
        let (filter_text, names, values) = expr.into_parts();
        let mut found = Vec::new();
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.map(str::to_owned))
                .key_condition_expression(&key_condition)
                .set_filter_expression((!filter_text.is_empty()).then(|| filter_text.clone()))
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!query.descending)
                .set_consistent_read((read == Read::Consistent).then_some(true))
                .limit(limit.max(1) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| StoreError::from_sdk(context, e))?;
            found.extend(page.items().iter().cloned());
            if found.len() >= limit {
                let more = found.len() > limit || page.last_evaluated_key().is_some();
                found.truncate(limit);
                return Ok((found, more));
            }
            match page.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => return Ok((found, false)),
            }
        }
    }
}
