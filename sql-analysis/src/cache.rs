//! A bounded cache from fingerprint id to analysis, with CLOCK (second chance) eviction.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::fingerprint::Fingerprinter;
use crate::{Analysis, Dialect, analyze};

/// Fingerprint and shape ids are already well-mixed hashes: use them as they are.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

#[derive(Debug)]
struct Slot {
    key: u64,
    value: Arc<Analysis>,
    referenced: bool,
}

/// Counters of an [`AnalysisCache`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that parsed the statement.
    pub misses: u64,
    /// Entries evicted to make room.
    pub evictions: u64,
    /// Statements the parser could not handle (answered by the fallback scan).
    pub fallbacks: u64,
}

/// Analyses statements once per fingerprint; memory is bounded by `capacity` entries.
#[derive(Debug)]
pub struct AnalysisCache {
    capacity: usize,
    index: IdMap<usize>,
    slots: Vec<Slot>,
    hand: usize,
    fingerprinter: Fingerprinter,
    stats: CacheStats,
}

impl AnalysisCache {
    /// A cache holding at most `capacity` analyses (at least 1).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            index: IdMap::<usize>::with_capacity_and_hasher(
                capacity.min(1 << 16),
                BuildHasherDefault::default(),
            ),
            slots: Vec::with_capacity(capacity.min(1 << 16)),
            hand: 0,
            fingerprinter: Fingerprinter::new(),
            stats: CacheStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// Number of analyses held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The cached analysis of a fingerprint id, if any.
    pub fn get(&mut self, id: u64) -> Option<Arc<Analysis>> {
        let slot = self.index.get(&id).and_then(|&i| self.slots.get_mut(i))?;
        slot.referenced = true;
        Some(Arc::clone(&slot.value))
    }

    /// The analysis of `sql`: from the cache when a statement with the same fingerprint was
    /// analysed before, else parsed now and remembered.
    pub fn analyze(&mut self, sql: &str, dialect: Dialect) -> Arc<Analysis> {
        let id = self.fingerprinter.id(sql, dialect);
        if let Some(found) = self.get(id) {
            self.stats.hits += 1;
            return found;
        }
        self.stats.misses += 1;
        let mut analysis = analyze(sql, dialect);
        analysis.fingerprint_id = id;
        if analysis.fallback {
            self.stats.fallbacks += 1;
        }
        let value = Arc::new(analysis);
        self.insert(id, Arc::clone(&value));
        value
    }

    /// Stores an analysis under a fingerprint id, evicting with CLOCK when full.
    pub fn insert(&mut self, id: u64, value: Arc<Analysis>) {
        if let Some(slot) = self.index.get(&id).and_then(|&i| self.slots.get_mut(i)) {
            slot.value = value;
            slot.referenced = true;
            return;
        }
        if self.slots.len() < self.capacity {
            self.index.insert(id, self.slots.len());
            self.slots.push(Slot {
                key: id,
                value,
                referenced: false,
            });
            return;
        }
        // Second chance: skip recently used entries once.
        loop {
            let hand = self.hand % self.slots.len();
            self.hand = hand + 1;
            let Some(slot) = self.slots.get_mut(hand) else {
                return;
            };
            if slot.referenced {
                slot.referenced = false;
                continue;
            }
            self.index.remove(&slot.key);
            slot.key = id;
            slot.value = value;
            slot.referenced = false;
            self.index.insert(id, hand);
            self.stats.evictions += 1;
            return;
        }
    }
}
