/*!
Contains utilities useful for reading and writing bed files and bed-like data.
*/

pub mod autosql;
pub mod bedparser;
pub mod indexer;
