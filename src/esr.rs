// SPDX-License-Identifier: GPL-2.0-only
//! Exception syndrome decoding.
