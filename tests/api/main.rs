//! The one integration-test binary: each module tests one part of the service end to end.

mod catalog;
