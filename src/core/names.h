/* SPDX-License-Identifier: MIT */
/*
 * Name tables written once: a list macro X(VALUE, "name") ... expands
 * with TG_NAME_STR into the strings and with TG_NAME_LEN into their
 * lengths, both indexed by the enum value.
 */
#ifndef TG_CORE_NAMES_H
#define TG_CORE_NAMES_H

#define TG_NAME_STR(e, s) [e] = s,
#define TG_NAME_LEN(e, s) [e] = sizeof(s) - 1,

#endif
