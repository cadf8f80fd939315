//! Prints the fingerprint and analysis of each statement given on standard input (one per line).
use std::io::BufRead;

use sql_analysis::{Dialect, analyze, fingerprint};

fn main() {
    let dialect = match std::env::args().nth(1).as_deref() {
        Some("mysql") => Dialect::MySql,
        _ => Dialect::Postgres,
    };
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let print = fingerprint(&line, dialect);
        println!("{:016x} {}", print.id, print.text);
        for statement in analyze(&line, dialect).statements {
            println!("    {statement:?}");
        }
    }
}
