//! Training data: labelled clips from a folder-per-label tree or a labels table, class
//! selection, and leak-free splits (groups such as artists never straddle train and
//! validation).

pub mod args;
pub mod dataset;
pub mod prepare;
pub mod split;
