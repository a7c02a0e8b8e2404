// SPDX-License-Identifier: MIT
/*
 * A paced, bounded packet sender for the live capture-rate test of
 * `tcpguard watch`: writes COUNT Ethernet/IPv4/TCP frames (ACK+PSH with a
 * small payload, spread over FLOWS sessions from 10.96.NET.1 to
 * 10.96.NET.2:9000) at RATE frames per second into IFACE through an
 * AF_PACKET socket that bypasses the qdisc. The destination MAC belongs to
 * nobody, so the peer's stack drops the frames right after the capture
 * tap has seen them: the load measures the capture path, not TCP. Only
 * for the test's own namespaces; refuses addresses outside 10.96.0.0/16
 * by construction (NET is the third octet) and stops after COUNT frames.
 *
 *   blast IFACE NET RATE COUNT [FLOWS]   prints "sent N in S s: R pkt/s"
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 46
#define FRAME (14 + 20 + 20 + PAYLOAD)
#define BURST 32

static uint16_t csum(const void *p, size_t n, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void build(uint8_t *f, unsigned net, unsigned flow, uint32_t seq)
{
	static const uint8_t dst[6] = { 0x02, 0x96, 0, 0, 0, 0x99 };
	uint8_t *ip = f + 14, *tcp = ip + 20;
	uint8_t ph[12];
	uint16_t c;

	memcpy(f, dst, 6);
	f[5] = 0x99;
	f[4] = (uint8_t)net;
	f[6] = 0x02; f[7] = 0x96; f[8] = 0; f[9] = 0; f[10] = (uint8_t)net; f[11] = 1;
	f[12] = 0x08; f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (20 + 20 + PAYLOAD) >> 8; ip[3] = (20 + 20 + PAYLOAD) & 0xff;
	ip[6] = 0x40; ip[8] = 64; ip[9] = 6;
	ip[12] = 10; ip[13] = 96; ip[14] = (uint8_t)net; ip[15] = 1;
	ip[16] = 10; ip[17] = 96; ip[18] = (uint8_t)net; ip[19] = 2;
	c = csum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
	memset(tcp, 0, 20);
	tcp[0] = (uint8_t)((20000 + flow) >> 8); tcp[1] = (uint8_t)(20000 + flow);
	tcp[2] = 9000 >> 8; tcp[3] = 9000 & 0xff;
	tcp[4] = (uint8_t)(seq >> 24); tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8); tcp[7] = (uint8_t)seq;
	tcp[11] = 1;
	tcp[12] = 0x50; tcp[13] = 0x18; tcp[14] = 0xff; tcp[15] = 0xff;
	memset(tcp + 20, 'x', PAYLOAD);
	memcpy(ph, ip + 12, 8);
	ph[8] = 0; ph[9] = 6; ph[10] = 0; ph[11] = 20 + PAYLOAD;
	{
		uint32_t s = 0;

		for (int i = 0; i < 12; i += 2)
			s += (uint32_t)(ph[i] << 8 | ph[i + 1]);
		c = csum(tcp, 20 + PAYLOAD, s);
	}
	tcp[16] = (uint8_t)(c >> 8); tcp[17] = (uint8_t)c;
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { 0 };
	uint8_t f[BURST][FRAME];
	struct mmsghdr m[BURST];
	struct iovec iov[BURST];
	unsigned net, flows = 1024;
	double rate, t0, t;
	long count, sent = 0;
	uint32_t *seq;
	int fd, one = 1;

	if (argc < 5) {
		fprintf(stderr, "usage: blast IFACE NET RATE COUNT [FLOWS]\n");
		return 2;
	}
	net = (unsigned)atoi(argv[2]);
	rate = atof(argv[3]);
	count = atol(argv[4]);
	if (argc > 5)
		flows = (unsigned)atoi(argv[5]);
	if (net > 255 || rate <= 0 || count <= 0 || count > 100000000 ||
	    flows == 0 || flows > 40000) {
		fprintf(stderr, "blast: bad arguments\n");
		return 2;
	}
	seq = calloc(flows, sizeof(*seq));
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || !seq) {
		perror("blast: socket");
		return 1;
	}
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	sll.sll_halen = 6;
	if (!sll.sll_ifindex) {
		perror("blast: interface");
		return 1;
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BURST; i++) {
		iov[i].iov_base = f[i];
		iov[i].iov_len = FRAME;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_name = &sll;
		m[i].msg_hdr.msg_namelen = sizeof(sll);
	}
	t0 = now_s();
	while (sent < count) {
		int n = count - sent < BURST ? (int)(count - sent) : BURST, r;

		/* pace: frame number sent must not run ahead of rate * time */
		while ((double)sent > (now_s() - t0) * rate)
			;
		for (int i = 0; i < n; i++) {
			unsigned fl = (unsigned)(sent + i) % flows;

			build(f[i], net, fl, seq[fl]);
			seq[fl] += PAYLOAD;
		}
		r = sendmmsg(fd, m, (unsigned)n, 0);
		if (r < 0) {
			perror("blast: sendmmsg");
			return 1;
		}
		sent += r;
	}
	t = now_s() - t0;
	printf("sent %ld in %.3f s: %.0f pkt/s\n", sent, t, (double)sent / t);
	close(fd);
	return 0;
}
