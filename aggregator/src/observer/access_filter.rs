//! Allow and deny filters over data accesses, with the same semantics as the
//! flow filters: a filter matches when every non-empty field matches, a field
//! matches when any of its values matches, and an access is sent when it
//! matches any allow filter (or there is none) and no deny filter.

use proto::v1::{DataAccess, DataAccessFilter, Process};

use crate::store::inventory::{database_of, datastore_id, table_matches};

#[cfg(test)]
mod tests;

/// Whether `field` has no values (matches anything) or one matches.
fn any<T>(field: &[T], matches: impl Fn(&T) -> bool) -> bool {
    field.is_empty() || field.iter().any(matches)
}

/// Every table an access touched: read, written, or the table of a column.
fn tables(access: &DataAccess) -> impl Iterator<Item = &str> {
    access
        .tables_read
        .iter()
        .chain(&access.tables_written)
        .map(String::as_str)
        .chain(access.columns.iter().map(|column| column.table.as_str()))
        .filter(|table| !table.is_empty())
}

fn workload_matches(access: &DataAccess, process: Option<&Process>, wanted: &str) -> bool {
    let by_process = process.is_some_and(|process| {
        let executable_name = process.executable.rsplit('/').next().unwrap_or_default();
        [process.workload.as_str(), process.command.as_str(), executable_name]
            .iter()
            .any(|candidate| !candidate.is_empty() && *candidate == wanted)
    });
    by_process || access.client_endpoint.as_ref().is_some_and(|client| !client.ip.is_empty() && client.ip == wanted)
}

fn datastore_matches(access: &DataAccess, wanted: &str) -> bool {
    (!access.server_workload.is_empty() && access.server_workload == wanted)
        || access.server.as_ref().is_some_and(|server| {
            datastore_id(server) == wanted || format!("{}:{}", server.ip, server.port) == wanted
        })
}

fn database_matches(access: &DataAccess, wanted: &str) -> bool {
    access.database == wanted || tables(access).any(|table| database_of(access, table) == wanted)
}

/// `email`, `customers.email` or `public.customers.email`.
fn column_matches(access: &DataAccess, wanted: &str) -> bool {
    access.columns.iter().any(|column| {
        column.column == wanted
            || wanted
                .rsplit_once('.')
                .is_some_and(|(table, name)| name == column.column && table_matches(&column.table, table))
    })
}

/// The allow and deny lists of one request.
#[derive(Clone, Debug, Default)]
pub struct AccessFilters {
    allow: Vec<DataAccessFilter>,
    deny: Vec<DataAccessFilter>,
}

fn filter_matches(filter: &DataAccessFilter, node_name: &str, access: &DataAccess, process: Option<&Process>) -> bool {
    any(&filter.node_name, |name| name == node_name)
        && any(&filter.workload, |wanted| workload_matches(access, process, wanted))
        && any(&filter.datastore, |wanted| datastore_matches(access, wanted))
        && any(&filter.database, |wanted| database_matches(access, wanted))
        && any(&filter.table, |wanted| tables(access).any(|table| table_matches(table, wanted)))
        && any(&filter.column, |wanted| column_matches(access, wanted))
        && any(&filter.operation, |wanted| access.operation.eq_ignore_ascii_case(wanted))
        && any(&filter.protocol, |protocol| *protocol == access.protocol)
}

impl AccessFilters {
    /// The filters of a request; every value is valid.
    pub fn compile(allow: &[DataAccessFilter], deny: &[DataAccessFilter]) -> Self {
        Self { allow: allow.to_vec(), deny: deny.to_vec() }
    }

    /// Whether an access seen on `node_name`, run by `process` (the client
    /// process, kept apart from the access in stored blocks), is to be sent.
    pub fn matches(&self, node_name: &str, access: &DataAccess, process: Option<&Process>) -> bool {
        (self.allow.is_empty() || self.allow.iter().any(|filter| filter_matches(filter, node_name, access, process)))
            && !self.deny.iter().any(|filter| filter_matches(filter, node_name, access, process))
    }
}
