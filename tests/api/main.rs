//! The one integration-test binary: each module tests one area of callconfirm end to end.

mod deployment;
