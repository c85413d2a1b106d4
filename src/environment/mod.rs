//! Where a run happens: the cluster, how images reach its nodes, the tools
//! and settings of this machine, and the run's configuration.

pub mod cluster;
pub mod config;
pub mod images;
pub mod interrupt;
pub mod tools;
