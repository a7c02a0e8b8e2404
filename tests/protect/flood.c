// SPDX-License-Identifier: MIT
/*
 * A bounded SYN (or SYN-ACK) sender for tests/protect.sh and
 * bench/protect.sh: raw IPv4 packets from a fixed source or from random
 * sources inside a test prefix, to one destination port, at a given rate
 * (0 = as fast as it can) for a given count. Never leaves the test's own
 * address range: the caller picks the prefix.
 *
 *   flood -d DST -p PORT -n COUNT [-r PPS] [-s SRC | -S PREFIX/LEN] [-A]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint16_t csum(const void *p, size_t n, uint32_t s)
{
	const uint16_t *w = p;

	for (; n > 1; n -= 2)
		s += *w++;
	if (n)
		s += *(const uint8_t *)w;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int main(int argc, char **argv)
{
	uint32_t dst = 0, src = 0, base = 0, mask = 0, seed = 12345;
	unsigned long count = 1000, rate = 0;
	int port = 80, c, synack = 0, fd, one = 1;
	static uint8_t pk[BATCH][60];
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint64_t t0;
	unsigned long sent = 0;

	while ((c = getopt(argc, argv, "d:p:n:r:s:S:A")) != -1) {
		switch (c) {
		case 'd': inet_pton(AF_INET, optarg, &dst); break;
		case 'p': port = atoi(optarg); break;
		case 'n': count = strtoul(optarg, NULL, 10); break;
		case 'r': rate = strtoul(optarg, NULL, 10); break;
		case 's': inet_pton(AF_INET, optarg, &src); break;
		case 'S': {
			char *sl = strchr(optarg, '/');
			int len = sl ? atoi(sl + 1) : 32;

			if (sl)
				*sl = 0;
			inet_pton(AF_INET, optarg, &base);
			mask = len >= 32 ? 0 : 0xffffffffu >> len;
			break;
		}
		case 'A': synack = 1; break;
		default: return 2;
		}
	}
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		perror("flood: raw socket");
		return 1;
	}
	to.sin_addr.s_addr = dst;
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = pk[i];
		iov[i].iov_len = 44;
		memset(&msg[i], 0, sizeof(msg[i]));
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
		msg[i].msg_hdr.msg_name = &to;
		msg[i].msg_hdr.msg_namelen = sizeof(to);
	}
	t0 = now_ns();
	signal(SIGTERM, on_term);
	for (; sent < count && !stop;) {
		int n = count - sent < BATCH ? (int)(count - sent) : BATCH;

		for (int i = 0; i < n; i++) {
			struct iphdr *ip = (void *)pk[i];
			struct tcphdr *th = (void *)(pk[i] + 20);
			uint8_t *o = pk[i] + 40;
			uint32_t s;

			seed = seed * 1103515245u + 12345u;
			s = mask ? htonl((ntohl(base) & ~mask) | ((seed >> 4) & mask)) : src;
			if (mask && (ntohl(s) & mask) == 0)
				s = htonl(ntohl(s) | 1);
			memset(pk[i], 0, 44);
			ip->version = 4;
			ip->ihl = 5;
			ip->tot_len = htons(44);
			ip->ttl = 64;
			ip->protocol = IPPROTO_TCP;
			ip->saddr = s;
			ip->daddr = dst;
			th->source = htons((uint16_t)(1024 + (seed >> 16) % 60000));
			th->dest = htons((uint16_t)port);
			th->seq = htonl(seed);
			th->doff = 6;
			th->syn = 1;
			if (synack) {
				th->ack = 1;
				th->ack_seq = htonl(seed ^ 0x5a5a5a5a);
			}
			th->window = htons(64240);
			o[0] = 2, o[1] = 4, o[2] = 0x05, o[3] = 0xb4;
			{
				uint8_t b[12 + 24];

				memcpy(b, &s, 4);
				memcpy(b + 4, &dst, 4);
				b[8] = 0;
				b[9] = IPPROTO_TCP;
				b[10] = 0;
				b[11] = 24;
				memcpy(b + 12, th, 24);
				th->check = csum(b, sizeof(b), 0);
			}
		}
		if (sendmmsg(fd, msg, (unsigned)n, 0) < 0) {
			perror("flood: sendmmsg");
			return 1;
		}
		sent += (unsigned long)n;
		if (rate) {
			uint64_t due = t0 + sent * 1000000000ull / rate, t;

			while ((t = now_ns()) < due)
				if (due - t > 200000)
					usleep((useconds_t)((due - t) / 1000));
		}
	}
	fprintf(stderr, "flood: %lu packets in %.3f s (%.0f pps)\n", sent,
		(double)(now_ns() - t0) / 1e9,
		(double)sent * 1e9 / (double)(now_ns() - t0 + 1));
	return 0;
}
