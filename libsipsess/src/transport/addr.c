/*
 * Transport addresses: "proto:host:port" text both ways, comparison and
 * hashing. Hosts are numeric (or "localhost"): the library does no DNS, so
 * nothing here can block.
 */
#include <stdio.h>
#include <string.h>

#include "tp_int.h"

static int ieq_prefix(const char *s, size_t n, const char *lit)
{
    if (strlen(lit) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lit[i])
            return 0;
    }
    return 1;
}

const char *sipsess__tp_proto_token(sipsess__proto p)
{
    switch (p) {
    case SIPSESS__UDP:
        return "UDP";
    case SIPSESS__TCP:
        return "TCP";
    case SIPSESS__MEM:
        return "MEM";
    }
    return "";
}

static const char *proto_prefix(unsigned p)
{
    switch (p) {
    case SIPSESS__UDP:
        return "udp";
    case SIPSESS__TCP:
        return "tcp";
    case SIPSESS__MEM:
        return "mem";
    }
    return NULL;
}

int sipsess__addr_family(const sipsess__addr *a)
{
    return a ? a->sa.ss_family : AF_UNSPEC;
}

unsigned sipsess__addr_port(const sipsess__addr *a)
{
    if (!a)
        return 0;
    if (a->sa.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->sa)->sin_port);
    if (a->sa.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->sa)->sin6_port);
    return 0;
}

void sipsess__addr_set_port(sipsess__addr *a, unsigned port)
{
    if (a->sa.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->sa)->sin_port = htons((uint16_t)port);
    else if (a->sa.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->sa)->sin6_port = htons((uint16_t)port);
}

void sipsess__addr_from_sa(sipsess__addr *a, sipsess__proto proto, const void *sa,
                           socklen_t len)
{
    memset(a, 0, sizeof *a);
    a->proto = (uint8_t)proto;
    if (len > sizeof a->sa)
        len = sizeof a->sa;
    memcpy(&a->sa, sa, len);
    /* Keep only what equality and sendto need: the kernel may hand back
     * a longer length than the family's struct. */
    if (a->sa.ss_family == AF_INET)
        a->len = sizeof(struct sockaddr_in);
    else if (a->sa.ss_family == AF_INET6)
        a->len = sizeof(struct sockaddr_in6);
    else
        a->len = len;
}

int sipsess__addr_from_host(sipsess__proto proto, sipsess_str host, unsigned port,
                            sipsess__addr *out)
{
    char tmp[INET6_ADDRSTRLEN];
    if (!host.p || host.len == 0 || host.len >= sizeof tmp || port > 65535)
        return SIPSESS_EINVAL;
    memcpy(tmp, host.p, host.len);
    tmp[host.len] = '\0';
    if (ieq_prefix(tmp, host.len, "localhost"))
        strcpy(tmp, "127.0.0.1");

    sipsess__addr a;
    memset(&a, 0, sizeof a);
    a.proto = (uint8_t)proto;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&a.sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a.sa;
    if (inet_pton(AF_INET, tmp, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        a.len = sizeof *s4;
    } else if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        a.len = sizeof *s6;
    } else {
        return SIPSESS_EINVAL;
    }
    *out = a;
    return 0;
}

/* 1–5 digits, at most 65535; the whole of [p, end). */
static int parse_port(const char *p, const char *end, unsigned *port)
{
    size_t n = (size_t)(end - p);
    if (n == 0 || n > 5)
        return SIPSESS_EINVAL;
    unsigned v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return SIPSESS_EINVAL;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > 65535)
        return SIPSESS_EINVAL;
    *port = v;
    return 0;
}

int sipsess__addr_parse(const char *spec, sipsess__addr *out)
{
    if (!spec || !out)
        return SIPSESS_EINVAL;
    const char *colon = strchr(spec, ':');
    if (!colon)
        return SIPSESS_EINVAL;
    size_t plen = (size_t)(colon - spec);
    sipsess__proto proto;
    if (ieq_prefix(spec, plen, "udp"))
        proto = SIPSESS__UDP;
    else if (ieq_prefix(spec, plen, "tcp"))
        proto = SIPSESS__TCP;
    else if (ieq_prefix(spec, plen, "mem"))
        proto = SIPSESS__MEM;
    else
        return SIPSESS_EINVAL;

    const char *rest = colon + 1, *end = rest + strlen(rest);
    unsigned port = 5060;
    if (proto == SIPSESS__MEM) {
        /* A mem endpoint is only a port; one representation for all
         * addresses keeps comparison and routing code shared. */
        if (parse_port(rest, end, &port))
            return SIPSESS_EINVAL;
        return sipsess__addr_from_host(proto, (sipsess_str){"127.0.0.1", 9}, port, out);
    }

    sipsess_str host;
    const char *after;
    if (*rest == '[') {
        const char *rb = strchr(rest, ']');
        if (!rb)
            return SIPSESS_EINVAL;
        host = (sipsess_str){rest + 1, (size_t)(rb - rest - 1)};
        /* A bracket holds an IPv6 literal and nothing else. */
        if (!memchr(host.p, ':', host.len))
            return SIPSESS_EINVAL;
        after = rb + 1;
    } else {
        const char *c = strchr(rest, ':');
        /* An unbracketed IPv6 literal cannot be told from its port. */
        if (c && strchr(c + 1, ':'))
            return SIPSESS_EINVAL;
        after = c ? c : end;
        host = (sipsess_str){rest, (size_t)(after - rest)};
    }
    if (*after == ':') {
        if (parse_port(after + 1, end, &port))
            return SIPSESS_EINVAL;
    } else if (*after != '\0') {
        return SIPSESS_EINVAL;
    }
    return sipsess__addr_from_host(proto, host, port, out);
}

int sipsess__addr_ip(const sipsess__addr *a, char *buf, size_t cap)
{
    char tmp[INET6_ADDRSTRLEN];
    const void *src;
    if (!a || !buf)
        return SIPSESS_EINVAL;
    if (a->sa.ss_family == AF_INET)
        src = &((const struct sockaddr_in *)&a->sa)->sin_addr;
    else if (a->sa.ss_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)&a->sa)->sin6_addr;
    else
        return SIPSESS_EINVAL;
    if (!inet_ntop(a->sa.ss_family, src, tmp, sizeof tmp))
        return SIPSESS_EINVAL;
    size_t n = strlen(tmp);
    if (n >= cap) {
        if (cap)
            buf[0] = '\0';
        return SIPSESS_ENOSPC;
    }
    memcpy(buf, tmp, n + 1);
    return (int)n;
}

int sipsess__addr_hostport(const sipsess__addr *a, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    int rc = sipsess__addr_ip(a, ip, sizeof ip);
    if (rc < 0)
        return rc;
    bool v6 = a->sa.ss_family == AF_INET6;
    int n = snprintf(buf, cap, v6 ? "[%s]:%u" : "%s:%u", ip, sipsess__addr_port(a));
    if (n < 0)
        return SIPSESS_EINVAL;
    if ((size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return SIPSESS_ENOSPC;
    }
    return n;
}

int sipsess__addr_print(const sipsess__addr *a, char *buf, size_t cap)
{
    if (!a || !buf)
        return SIPSESS_EINVAL;
    const char *pfx = proto_prefix(a->proto);
    if (!pfx)
        return SIPSESS_EINVAL;
    char hp[SIPSESS__HOSTPORT_MAX];
    int n;
    if (a->proto == SIPSESS__MEM) {
        n = snprintf(buf, cap, "mem:%u", sipsess__addr_port(a));
    } else {
        int rc = sipsess__addr_hostport(a, hp, sizeof hp);
        if (rc < 0)
            return rc;
        n = snprintf(buf, cap, "%s:%s", pfx, hp);
    }
    if (n < 0)
        return SIPSESS_EINVAL;
    if ((size_t)n >= cap) {
        if (cap)
            buf[0] = '\0';
        return SIPSESS_ENOSPC;
    }
    return n;
}

bool sipsess__addr_same_ip(const sipsess__addr *a, const sipsess__addr *b)
{
    if (a->sa.ss_family != b->sa.ss_family)
        return false;
    if (a->sa.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)&a->sa, *y = (const void *)&b->sa;
        return x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)&a->sa, *y = (const void *)&b->sa;
        return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0 &&
               x->sin6_scope_id == y->sin6_scope_id;
    }
    return false;
}

bool sipsess__addr_equal(const sipsess__addr *a, const sipsess__addr *b)
{
    if (!a || !b)
        return false;
    return a->proto == b->proto && sipsess__addr_same_ip(a, b) &&
           sipsess__addr_port(a) == sipsess__addr_port(b);
}

bool sipsess__addr_is_any(const sipsess__addr *a)
{
    if (a->sa.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr == htonl(INADDR_ANY);
    if (a->sa.ss_family == AF_INET6)
        return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)&a->sa)->sin6_addr);
    return false;
}

bool sipsess__addr_is_loopback(const sipsess__addr *a)
{
    if (a->sa.ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)&a->sa)->sin_addr.s_addr) >> 24) == 127;
    if (a->sa.ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&a->sa)->sin6_addr);
    return false;
}

uint32_t sipsess__addr_hash(const sipsess__addr *a)
{
    /* FNV-1a over family, port and address bytes: the fields equality
     * compares, so equal addresses hash alike. */
    uint32_t h = 2166136261u;
    const unsigned char *p = NULL;
    size_t n = 0;
    if (a->sa.ss_family == AF_INET) {
        p = (const void *)&((const struct sockaddr_in *)&a->sa)->sin_addr;
        n = 4;
    } else if (a->sa.ss_family == AF_INET6) {
        p = (const void *)&((const struct sockaddr_in6 *)&a->sa)->sin6_addr;
        n = 16;
    }
    unsigned port = sipsess__addr_port(a);
    unsigned char head[4] = {a->proto, (unsigned char)a->sa.ss_family, (unsigned char)(port >> 8),
                             (unsigned char)port};
    for (size_t i = 0; i < sizeof head; i++)
        h = (h ^ head[i]) * 16777619u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}
