// SPDX-License-Identifier: MIT
/*
 * Reader and writer of the detection thresholds file. One table names
 * every key, its section, its type and where it lives in struct
 * tg_detect_cfg, so reading, writing (--detect-defaults) and the
 * documentation cannot drift apart: a key the table does not know is an
 * error with its line number, never silently ignored.
 *
 *   # comment            ; comment
 *   [syn-flood]
 *   syn_alarm_pps = 100
 *   brute_ports = 22, 3389
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "detect_ini.h"

enum key_type { K_BOOL, K_U8, K_U32, K_F64, K_PORTS };

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t off;
	double max;
};

#define K(sec, field, type, max) { sec, #field, type, offsetof(struct tg_detect_cfg, field), max }

static const struct key keys[] = {
	K("detect", enabled, K_BOOL, 1),
	K("detect", window_ms, K_U32, 3600000),
	K("detect", quiet_ms, K_U32, 86400000),
	K("detect", update_ms, K_U32, 86400000),
	K("syn-flood", syn_alarm_pps, K_U32, 4e9),
	K("syn-flood", syn_activate_pps, K_U32, 4e9),
	K("syn-flood", syn_maximum_pps, K_U32, 4e9),
	K("syn-flood", syn_min_sources, K_U32, 4e9),
	K("syn-flood", syn_max_completion, K_F64, 1),
	K("baseline", baseline_alpha, K_F64, 1),
	K("baseline", baseline_factor, K_F64, 1e6),
	K("baseline", baseline_windows, K_U32, 4e9),
	K("carpet", carpet_alarm_pps, K_U32, 4e9),
	K("carpet", carpet_min_hosts, K_U32, 4e9),
	K("carpet", prefix4, K_U8, 32),
	K("carpet", prefix6, K_U8, 128),
	K("carpet", prefix6_wide, K_U8, 128),
	K("reflection", backscatter_alarm_pps, K_U32, 4e9),
	K("reflection", reflector_min_rexmit, K_U32, 4e9),
	K("reflection", reflector_min_amp, K_F64, 1e6),
	K("scan", scan_window_ms, K_U32, 86400000),
	K("scan", scan_min_ports, K_U32, 65536),
	K("scan", scan_min_hosts, K_U32, 4e9),
	K("scan", scan_min_fail, K_F64, 1),
	K("brute-force", brute_window_ms, K_U32, 86400000),
	K("brute-force", brute_min_sessions, K_U32, 4e9),
	K("brute-force", brute_max_duration_ms, K_U32, 86400000),
	K("brute-force", brute_ports, K_PORTS, 65535),
	K("brute-force", admit_min, K_U32, 65535),
	K("signature", sig_min_share, K_F64, 1),
	K("signature", sig_max_other, K_F64, 1),
	K("tables", max_entities, K_U32, 1u << 30),
	K("tables", max_alerts, K_U32, 1u << 20),
	K("tables", sketch_width, K_U32, 1u << 28),
	K("tables", bloom_bits_log2, K_U32, 34),
};

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int set_ports(uint16_t *ports, char *v)
{
	unsigned n = 0;
	char *save = NULL;

	memset(ports, 0, 16 * sizeof(*ports));
	for (char *t = strtok_r(v, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
		char *end;
		long p = strtol(t, &end, 10);

		if (*end || p <= 0 || p > 65535 || n >= 15)
			return -1;
		ports[n++] = (uint16_t)p;
	}
	return 0;
}

static int set_key(struct tg_detect_cfg *cfg, const struct key *k, char *v)
{
	char *p = (char *)cfg + k->off, *end;
	double x;

	if (k->type == K_PORTS)
		return set_ports((uint16_t *)(void *)p, v);
	if (k->type == K_BOOL) {
		if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
			*(bool *)p = true;
		else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
			*(bool *)p = false;
		else
			return -1;
		return 0;
	}
	errno = 0;
	x = strtod(v, &end);
	if (*end || errno || x < 0 || x > k->max || end == v)
		return -1;
	if (k->type != K_F64 && x != (double)(uint64_t)x)
		return -1;
	switch (k->type) {
	case K_U8: *(uint8_t *)p = (uint8_t)x; break;
	case K_U32: *(uint32_t *)(void *)p = (uint32_t)x; break;
	default: *(double *)(void *)p = x; break;
	}
	return 0;
}

bool tg_cli_detect_ini_section(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].section, name))
			return true;
	return false;
}

int tg_cli_detect_ini(struct tg_detect_cfg *cfg, const char *path, char *err,
		      size_t errlen)
{
	return tg_cli_detect_ini_shared(cfg, path, false, err, errlen);
}

int tg_cli_detect_ini_shared(struct tg_detect_cfg *cfg, const char *path,
			     bool skip_foreign, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned ln = 0;
	int rc = 0;
	bool foreign = false;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq, *name, *val;
		const struct key *k = NULL;

		ln++;
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (s[strlen(s) - 1] != ']') {
				snprintf(err, errlen, "%s:%u: unterminated section", path, ln);
				rc = -1;
				break;
			}
			s[strlen(s) - 1] = '\0';
			foreign = skip_foreign && !tg_cli_detect_ini_section(trim(s + 1));
			continue;
		}
		if (foreign)
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected key = value", path, ln);
			rc = -1;
			break;
		}
		*eq = '\0';
		name = trim(s);
		val = trim(eq + 1);
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(keys[i].name, name))
				k = &keys[i];
		if (!k) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path, ln, name);
			rc = -1;
			break;
		}
		if (set_key(cfg, k, val)) {
			snprintf(err, errlen, "%s:%u: bad value '%s' for %s", path, ln, val, name);
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

void tg_cli_detect_ini_write(FILE *f, const struct tg_detect_cfg *cfg)
{
	const char *sec = "";

	fputs("# tcpguard detection thresholds (docs/detection.md)\n", f);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		const char *p = (const char *)cfg + k->off;

		if (strcmp(sec, k->section)) {
			sec = k->section;
			fprintf(f, "\n[%s]\n", sec);
		}
		fprintf(f, "%s = ", k->name);
		switch (k->type) {
		case K_BOOL: fputs(*(const bool *)p ? "true" : "false", f); break;
		case K_U8: fprintf(f, "%u", *(const uint8_t *)p); break;
		case K_U32: fprintf(f, "%u", *(const uint32_t *)(const void *)p); break;
		case K_F64: fprintf(f, "%g", *(const double *)(const void *)p); break;
		case K_PORTS: {
			const uint16_t *ports = (const uint16_t *)(const void *)p;

			for (int j = 0; j < 16 && ports[j]; j++)
				fprintf(f, "%s%u", j ? ", " : "", ports[j]);
			break;
		}
		}
		fputc('\n', f);
	}
}
