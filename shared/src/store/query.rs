//! Reading one partition (of the table or an index) page by page, with an optional filter,
//! until a page of the caller's size is full or `MAX_QUERIES_PER_PAGE` Queries are spent; and the
//! listing every `list_*` is made of.

use aws_sdk_dynamodb::types::AttributeValue;

use super::error::{StoreError, StoreResult};
use super::item::Item;
use super::tx::Expr;
use super::{Read, Store, keys};

/// The most Queries one page of a listing makes. DynamoDB applies a Query's `Limit` before its
/// filter, so a filter that matches few items of a big partition (deactivated members among
/// thousands) would otherwise read it a Query at a time until the page is full, and run out of
/// time instead. A page that reaches this bound ends where its last Query stopped: it may hold
/// fewer records than asked for, even none, and still have a next page.
pub const MAX_QUERIES_PER_PAGE: usize = 5;

/// The most items one Query of a filtered page asks DynamoDB to evaluate. DynamoDB also stops
/// at 1 MB; this keeps a page's reading (and its read capacity) well below 5 MB of members.
const MAX_QUERY_ITEMS: usize = 1_000;

/// While a filter has matched nothing, each Query of the page evaluates this many times as many
/// items as the Queries before it did.
const GROWTH: usize = 8;

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
    /// The position of a key where the reading stopped (a Query's `LastEvaluatedKey`), which
    /// may be an item the filter left out: the next page starts after it, not after the last
    /// record returned, so that it does not read the same items again.
    pub key_position: fn(&Item) -> Option<P>,
}

/// Where the next page starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Resume {
    /// Nowhere: the Queries reached the end of the partition (or of the prefix).
    End,
    /// After the last item returned: the page is full, and was cut there.
    AfterLast,
    /// After this key, the last one the Queries evaluated.
    After(Item),
}

/// The rest of a sort key after `prefix`: a position in a listing, from a key it stopped at.
pub(crate) fn sk_after<'a>(key: &'a Item, prefix: &str) -> Option<&'a str> {
    match key.get(keys::SK)? {
        AttributeValue::S(sk) => sk.strip_prefix(prefix),
        _ => None,
    }
}

/// The rest of a partition key after `prefix`.
pub(crate) fn pk_after<'a>(key: &'a Item, prefix: &str) -> Option<&'a str> {
    match key.get(keys::PK)? {
        AttributeValue::S(pk) => pk.strip_prefix(prefix),
        _ => None,
    }
}

/// How many items the next Query asks DynamoDB to evaluate (its `Limit`), when `wanted` more
/// records would fill the page and the Queries before it evaluated `evaluated` items, of which
/// `matched` passed the filter.
///
/// Without a filter every item evaluated is returned: exactly what the page lacks. With one, the
/// first Query asks for the page's size too, since most filters (pending join requests, live
/// teams) match most items and the page is then full at once, reading nothing it throws away.
/// The next ones ask for more: as many as the match rate seen so far says the page still needs,
/// half again for luck, or, while nothing matched, `GROWTH` times what was read so far. Items
/// read past a full page cost little (DynamoDB charges by the 4 KB read, not by the item) and
/// are read again by the next page, while each Query saved is a round trip; `MAX_QUERY_ITEMS`
/// caps what a page may read.
pub(crate) fn query_limit(
    filtered: bool,
    wanted: usize,
    evaluated: usize,
    matched: usize,
) -> usize {
    let wanted = wanted.max(1);
    if !filtered || evaluated == 0 {
        return wanted;
    }
    let guess = match matched {
        0 => evaluated.saturating_mul(GROWTH),
        _ => (wanted.saturating_mul(evaluated).div_ceil(matched)).saturating_mul(3) / 2,
    };
    guess.clamp(wanted, MAX_QUERY_ITEMS.max(wanted))
}

impl Store {
    /// A page of up to `limit` records after `start`, with the position to go on from when more
    /// may follow: after its last record when it is full, or after the last item its Queries
    /// read when `MAX_QUERIES_PER_PAGE` ended it short.
    pub(crate) async fn list<T, P>(
        &self,
        query: PartitionQuery<'_>,
        filter: Option<Expr>,
        limit: usize,
        start: Option<Item>,
        decode: Decode<T, P>,
        context: &'static str,
    ) -> StoreResult<Page<T, P>> {
        let (items, resume) = self
            .query_read(query, filter, limit, start, Read::Eventual, context)
            .await?;
        let items = items
            .iter()
            .map(decode.item)
            .collect::<StoreResult<Vec<_>>>()?;
        let next = match resume {
            Resume::End => None,
            Resume::AfterLast => items.last().map(decode.position),
            Resume::After(key) => Some((decode.key_position)(&key).ok_or_else(|| {
                StoreError::Corrupt(format!("a key that {context} cannot go on from"))
            })?),
        };
        Ok(Page { items, next })
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

    /// Up to `limit` matching items after `start`, in at most `MAX_QUERIES_PER_PAGE` Queries,
    /// and where the next page starts.
    async fn query_read(
        &self,
        query: PartitionQuery<'_>,
        filter: Option<Expr>,
        limit: usize,
        mut start: Option<Item>,
        read: Read,
        context: &'static str,
    ) -> StoreResult<(Vec<Item>, Resume)> {
        let limit = limit.max(1);
        let filtered = filter.is_some();
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
        let mut evaluated = 0;
        for _ in 0..MAX_QUERIES_PER_PAGE {
            let ask = query_limit(filtered, limit - found.len(), evaluated, found.len());
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
                .limit(i32::try_from(ask).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| StoreError::from_sdk(context, e))?;
            evaluated += usize::try_from(page.scanned_count()).unwrap_or(0);
            found.extend(page.items().iter().cloned());
            if found.len() > limit {
                found.truncate(limit);
                return Ok((found, Resume::AfterLast));
            }
            start = page.last_evaluated_key().cloned();
            if found.len() == limit {
                break;
            }
            if start.is_none() {
                return Ok((found, Resume::End));
            }
        }
        Ok((found, start.map_or(Resume::End, Resume::After)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_filter_a_query_asks_for_what_the_page_lacks() {
        assert_eq!(query_limit(false, 50, 0, 0), 50);
        // A Query stopped at 1 MB: the next asks for the rest only.
        assert_eq!(query_limit(false, 20, 30, 30), 20);
        assert_eq!(query_limit(false, 0, 0, 0), 1);
    }

    #[test]
    fn with_a_filter_the_first_query_asks_for_the_page_and_the_next_ones_for_more() {
        assert_eq!(query_limit(true, 50, 0, 0), 50);
        // Half of the 50 read matched: the 25 missing take about 50 more, half again for luck.
        assert_eq!(query_limit(true, 25, 50, 25), 75);
        // Nothing matched yet: eight times what was read.
        assert_eq!(query_limit(true, 1, 1, 0), 8);
        assert_eq!(query_limit(true, 1, 9, 0), 72);
        // Nearly all matched: a little more than the page lacks.
        assert_eq!(query_limit(true, 10, 100, 99), 16);
        // Never more than the cap, unless the page alone is bigger.
        assert_eq!(query_limit(true, 1, 585, 0), MAX_QUERY_ITEMS);
        assert_eq!(query_limit(true, 100, 10_000, 1), MAX_QUERY_ITEMS);
        assert_eq!(query_limit(true, 2_000, 0, 0), 2_000);
    }

    #[test]
    fn a_page_with_a_filter_that_matches_nothing_reads_a_bounded_amount() {
        // The Limits of the Queries of one page of one record, and so the most items it reads.
        let mut evaluated = 0;
        let mut limits = Vec::new();
        for _ in 0..MAX_QUERIES_PER_PAGE {
            let ask = query_limit(true, 1, evaluated, 0);
            limits.push(ask);
            evaluated += ask;
        }
        assert_eq!(limits, [1, 8, 72, 648, 1_000]);
        assert!(evaluated <= MAX_QUERIES_PER_PAGE * MAX_QUERY_ITEMS);
    }

    #[test]
    fn a_stopping_point_is_read_from_the_key() {
        let key = Item::from([
            (keys::PK.to_owned(), AttributeValue::S("ORG#org_1".into())),
            (keys::SK.to_owned(), AttributeValue::S("MEMBER#bob".into())),
        ]);
        assert_eq!(sk_after(&key, keys::MEMBER_PREFIX), Some("bob"));
        assert_eq!(sk_after(&key, keys::TEAM_PREFIX), None);
        assert_eq!(pk_after(&key, "ORG#"), Some("org_1"));
        assert_eq!(sk_after(&Item::new(), keys::MEMBER_PREFIX), None);
    }
}
