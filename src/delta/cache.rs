//! The open tables of one destination, one [`DeltaTable`] per table root, opened on first use
//! and kept (with its cached snapshot) for the life of the run or the daemon, so each commit
//! only reads the commits made since the previous one.

use super::{DeltaError, DeltaTable};
use crate::clock::Clock;
use object_store::ObjectStore;
use object_store::path::Path;
use std::collections::HashMap;
use std::sync::Arc;

/// Open tables by root.
pub struct TableCache {
    store: Arc<dyn ObjectStore>,
    tables: tokio::sync::Mutex<HashMap<Path, Arc<DeltaTable>>>,
    /// The time of the tables' commits.
    clock: Arc<dyn Clock>,
}

impl TableCache {
    /// An empty cache over `store`, whose tables tell the time by `clock`.
    pub fn new(store: Arc<dyn ObjectStore>, clock: Arc<dyn Clock>) -> TableCache {
        TableCache { store, tables: tokio::sync::Mutex::new(HashMap::new()), clock }
    }

    /// The table at `root` (named `url` in errors), opened if this is its first use. A table
    /// that fails to open is not kept, so the next call tries again.
    pub async fn get(&self, root: &Path, url: &str) -> Result<Arc<DeltaTable>, DeltaError> {
        let mut tables = self.tables.lock().await;
        if let Some(t) = tables.get(root) {
            return Ok(t.clone());
        }
        let t = DeltaTable::open_url(self.store.clone(), root.clone(), url).await?;
        let t = Arc::new(t.with_clock(Arc::clone(&self.clock)));
        tables.insert(root.clone(), t.clone());
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TokioClock;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn a_table_is_opened_once_per_root() {
        let cache = TableCache::new(Arc::new(InMemory::new()), Arc::new(TokioClock::new()));
        let a = cache.get(&Path::from("out/q1"), "mem://out/q1").await.unwrap();
        let b = cache.get(&Path::from("out/q1"), "mem://out/q1").await.unwrap();
        let c = cache.get(&Path::from("out/q2"), "mem://out/q2").await.unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c.url(), "mem://out/q2");
    }
}
