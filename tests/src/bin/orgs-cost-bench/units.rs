//! DynamoDB's request units of one request, computed from the sizes of the items it reads and
//! writes, as DynamoDB's on-demand mode counts them. moto answers `ReturnConsumedCapacity` with
//! a constant (1.0 for a write, 0.5 for a read, whatever the item's size) and not at all for
//! BatchGetItem or the transactions, so nothing here asks it: the units come from the request
//! and response bodies the SDK exchanged (`counting`) and from the table's items before and
//! after the request (`Snapshot`).

use std::collections::HashMap;

use anyhow::Context;
use aws_sdk_dynamodb::Client;
use serde_json::{Map, Value};

use crate::counting::Call;

/// An item in DynamoDB's JSON form (`{"pk": {"S": "ORG#…"}, …}`).
pub type Item = Map<String, Value>;

/// Reads are counted in 4 KB units, writes in 1 KB units.
const READ_UNIT: usize = 4096;
const WRITE_UNIT: usize = 1024;

/// The table's global secondary indexes (infra/template.yaml): their key attributes and what
/// they project (`None`: ALL, the whole item).
pub const INDEXES: &[(&str, &str, &str, Option<&[&str]>)] = &[
    ("gsi1", "gsi1pk", "gsi1sk", None),
    ("gsi2", "gsi2pk", "gsi2sk", None),
];

/// Every item of the table, by primary key.
#[derive(Clone, Debug, Default)]
pub struct Snapshot(HashMap<(String, String), Item>);

impl Snapshot {
    /// The whole table, read with a client whose requests nobody records.
    pub async fn take(client: &Client, table: &str) -> anyhow::Result<Self> {
        let mut items = HashMap::new();
        let mut start = None;
        loop {
            let page = client
                .scan()
                .table_name(table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .context("scanning the table")?;
            for item in page.items.unwrap_or_default() {
                let item = match crate::background::item_json(&item)? {
                    Value::Object(item) => item,
                    _ => continue,
                };
                if let Some(key) = key_of(&item) {
                    items.insert(key, item);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(Self(items))
    }

    fn get(&self, key: &(String, String)) -> Option<&Item> {
        self.0.get(key)
    }
}

/// The primary key (`pk`, `sk`) of an item or a key.
fn key_of(item: &Item) -> Option<(String, String)> {
    let s = |name: &str| item.get(name)?.get("S")?.as_str().map(str::to_owned);
    Some((s("pk")?, s("sk")?))
}

/// What one request (or several, summed) consumed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Units {
    /// Read request units.
    pub read: f64,
    /// Write request units on the table (transactional writes counted twice).
    pub write: f64,
    /// Write request units of the global secondary indexes.
    pub index_write: f64,
    /// Items read (a Query's items evaluated, a missing item asked for included).
    pub items_read: usize,
    /// Items written, condition checks included.
    pub items_written: usize,
    /// Items the request changed: one stream record each.
    pub stream_records: usize,
    /// New event records (entity "event"): one EventBridge event each, through publish-events.
    pub events: usize,
    /// Items a Query's filter left out, whose sizes were estimated (`Query` below).
    pub filtered: usize,
}

impl Units {
    pub fn add(&mut self, other: &Units) {
        self.read += other.read;
        self.write += other.write;
        self.index_write += other.index_write;
        self.items_read += other.items_read;
        self.items_written += other.items_written;
        self.stream_records += other.stream_records;
        self.events += other.events;
        self.filtered += other.filtered;
    }
}

/// The size DynamoDB bills for a value: strings and binaries by their bytes, numbers by about
/// one byte per two significant digits plus one, booleans and nulls one byte, and lists and maps
/// 3 bytes plus one per element plus their elements (names included, for a map).
fn value_size(value: &Value) -> usize {
    let Some((kind, v)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    let strings = |v: &Value, each: fn(&str) -> usize| {
        v.as_array()
            .map_or(0, |a| a.iter().filter_map(Value::as_str).map(each).sum())
    };
    match kind.as_str() {
        "S" => v.as_str().map_or(0, str::len),
        "N" => v.as_str().map_or(0, number_size),
        "B" => v.as_str().map_or(0, base64_len),
        "BOOL" | "NULL" => 1,
        "SS" => strings(v, str::len),
        "NS" => strings(v, number_size),
        "BS" => strings(v, base64_len),
        "L" => v.as_array().map_or(3, |a| {
            3 + a.iter().map(|e| 1 + value_size(e)).sum::<usize>()
        }),
        "M" => v.as_object().map_or(3, |m| {
            3 + m
                .iter()
                .map(|(name, e)| 1 + name.len() + value_size(e))
                .sum::<usize>()
        }),
        _ => 0,
    }
}

fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

fn base64_len(b: &str) -> usize {
    b.trim_end_matches('=').len() * 3 / 4
}

/// An item's size: each attribute's name and value.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

/// An index entry's size: the projected attributes (every one under ALL), the index's and the
/// table's keys always included.
fn index_entry_size(item: &Item, index: &(&str, &str, &str, Option<&[&str]>)) -> usize {
    let (_, hash, range, projected) = index;
    match projected {
        None => item_size(item),
        Some(names) => item
            .iter()
            .filter(|(name, _)| {
                ["pk", "sk", hash, range].contains(&name.as_str()) || names.contains(&name.as_str())
            })
            .map(|(name, value)| name.len() + value_size(value))
            .sum(),
    }
}

fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(READ_UNIT).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(WRITE_UNIT).max(1) as f64
}

/// A written item's key and how it was written.
enum Write {
    Change((String, String)),
    Check((String, String)),
}

/// The units of the DynamoDB requests in `calls`, with the table as it was before (`before`)
/// and after (`after`) them.
pub fn units(calls: &[Call], before: &Snapshot, after: &Snapshot) -> anyhow::Result<Units> {
    let mut total = Units::default();
    for call in calls.iter().filter(|c| c.service == "DynamoDB") {
        let request: Value = match &call.request {
            Some(body) => serde_json::from_slice(body).context("a DynamoDB request body")?,
            None => continue,
        };
        let response: Value = call
            .response
            .as_ref()
            .and_then(|body| serde_json::from_slice(body).ok())
            .unwrap_or(Value::Null);
        total.add(&one(&call.operation, &request, &response, before, after));
    }
    Ok(total)
}

fn one(
    operation: &str,
    request: &Value,
    response: &Value,
    before: &Snapshot,
    after: &Snapshot,
) -> Units {
    let mut units = Units::default();
    let consistent = |v: &Value| v["ConsistentRead"].as_bool() == Some(true);
    let objects = |v: &Value| -> Vec<Item> {
        v.as_array()
            .map(|a| a.iter().filter_map(|i| i.as_object().cloned()).collect())
            .unwrap_or_default()
    };
    // A read of a key: the item's size before the request, a missing item the least unit.
    let read_key = |units: &mut Units, key: &Item, strong: bool| {
        let size = key_of(key)
            .and_then(|k| before.get(&k).or(after.get(&k)))
            .map_or(0, item_size);
        units.items_read += 1;
        units.read += read_units(size, strong);
    };
    let mut writes = Vec::new();
    let mut transactional = false;
    match operation {
        "GetItem" => {
            if let Some(key) = request["Key"].as_object() {
                read_key(&mut units, key, consistent(request));
            }
        }
        "BatchGetItem" => {
            for (_, table) in request["RequestItems"].as_object().into_iter().flatten() {
                for key in objects(&table["Keys"]) {
                    read_key(&mut units, &key, consistent(table));
                }
            }
        }
        "Query" => {
            // One unit per 4 KB of every item evaluated, summed, then rounded up. A filter's
            // rejects are evaluated too, but not returned: each is taken at the returned items'
            // average size.
            let items = objects(&response["Items"]);
            let sizes: Vec<usize> = items
                .iter()
                .map(|item| {
                    key_of(item)
                        .and_then(|k| before.get(&k))
                        .map_or_else(|| item_size(item), item_size)
                })
                .collect();
            let returned: usize = sizes.iter().sum();
            let scanned = response["ScannedCount"].as_u64().unwrap_or(0) as usize;
            let filtered = scanned.saturating_sub(items.len());
            let average = if items.is_empty() {
                0
            } else {
                returned / items.len()
            };
            units.items_read += scanned.max(items.len());
            units.filtered += filtered;
            units.read += read_units(returned + filtered * average, consistent(request));
        }
        "PutItem" => writes.extend(
            request["Item"]
                .as_object()
                .and_then(key_of)
                .map(Write::Change),
        ),
        "UpdateItem" | "DeleteItem" => {
            writes.extend(
                request["Key"]
                    .as_object()
                    .and_then(key_of)
                    .map(Write::Change),
            );
        }
        "BatchWriteItem" => {
            for (_, table) in request["RequestItems"].as_object().into_iter().flatten() {
                for entry in table.as_array().into_iter().flatten() {
                    let key = entry["PutRequest"]["Item"]
                        .as_object()
                        .or(entry["DeleteRequest"]["Key"].as_object());
                    writes.extend(key.and_then(key_of).map(Write::Change));
                }
            }
        }
        "TransactWriteItems" => {
            transactional = true;
            for entry in request["TransactItems"].as_array().into_iter().flatten() {
                if let Some(item) = entry["Put"]["Item"].as_object() {
                    writes.extend(key_of(item).map(Write::Change));
                }
                for kind in ["Update", "Delete"] {
                    if let Some(key) = entry[kind]["Key"].as_object() {
                        writes.extend(key_of(key).map(Write::Change));
                    }
                }
                if let Some(key) = entry["ConditionCheck"]["Key"].as_object() {
                    writes.extend(key_of(key).map(Write::Check));
                }
            }
        }
        _ => {}
    }
    let factor = if transactional { 2.0 } else { 1.0 };
    for write in writes {
        units.items_written += 1;
        let (key, check) = match write {
            Write::Change(key) => (key, false),
            Write::Check(key) => (key, true),
        };
        let old = before.get(&key);
        let new = after.get(&key);
        // A write costs by the larger of the item before and after it.
        let size = old.map_or(0, item_size).max(new.map_or(0, item_size));
        units.write += factor * write_units(size);
        if check || old == new {
            continue;
        }
        units.stream_records += 1;
        if old.is_none() && new.is_some_and(|n| n["entity"]["S"] == "event") {
            units.events += 1;
        }
        for index in INDEXES {
            let index_key = |item: Option<&Item>| {
                let item = item?;
                Some((item.get(index.1)?.clone(), item.get(index.2)?.clone()))
            };
            let entry =
                |item: Option<&Item>| write_units(item.map_or(0, |i| index_entry_size(i, index)));
            match (index_key(old), index_key(new)) {
                (None, None) => {}
                (Some(_), None) => units.index_write += entry(old),
                (None, Some(_)) => units.index_write += entry(new),
                (Some(a), Some(b)) if a != b => units.index_write += entry(old) + entry(new),
                (Some(_), Some(_)) => units.index_write += entry(new),
            }
        }
    }
    units
}
