// SPDX-License-Identifier: GPL-2.0-only
//! Parsing of `/chosen/bootargs` options that rxen understands.
