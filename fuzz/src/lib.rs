//! The fuzz targets' entry points. The stable test suites of `db-protocols`
//! and `sql-analysis` replay the corpus through the same functions.

pub mod sql;
pub mod wire;
