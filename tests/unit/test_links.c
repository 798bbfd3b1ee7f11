/* test_links.c - xlbd_link_parse: rtnetlink link messages into "interface exists / is gone". */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "links.h"
#include "nlmsg.h"

/* A link message as the kernel sends it: header, ifinfomsg, then the name (name_len bytes of
 * name, NULL: none) and another attribute after it (the parser must step over both). */
static struct nlmsghdr *link_msg(void *buf, __u16 type, __u8 family, int ifindex, const char *name,
				 size_t name_len)
{
	struct nlmsghdr *h = buf;
	struct ifinfomsg *ifi;
	__u32 mtu = 1500;

	memset(buf, 0, 512);
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*ifi));
	h->nlmsg_type = type;
	ifi = NLMSG_DATA(h);
	ifi->ifi_family = family;
	ifi->ifi_index = ifindex;
	xlb_nl_add_attr(h, IFLA_MTU, &mtu, sizeof(mtu));
	if (name)
		xlb_nl_add_attr(h, IFLA_IFNAME, name, name_len);
	return h;
}

static void test_new_and_deleted(void)
{
	__u8 buf[512] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct xlbd_link_msg m;

	ASSERT_OK(xlbd_link_parse(link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, "veth0", 6), &m),
		  "new link");
	ASSERT_EQ(m.ifindex, 7u, "ifindex");
	ASSERT_TRUE(!m.deleted, "exists");
	ASSERT_STREQ(m.name, "veth0", "name");
	ASSERT_OK(xlbd_link_parse(link_msg(buf, RTM_DELLINK, AF_UNSPEC, 9, "xlbn-abc", 9), &m),
		  "deleted link");
	ASSERT_EQ(m.ifindex, 9u, "ifindex");
	ASSERT_TRUE(m.deleted, "gone");
	ASSERT_STREQ(m.name, "xlbn-abc", "name");
	/* The longest name, 15 characters and the NUL. */
	ASSERT_OK(xlbd_link_parse(link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 3, "abcdefghijklmno", 16),
				  &m),
		  "15-character name");
	ASSERT_STREQ(m.name, "abcdefghijklmno", "long name");
	ASSERT_OK(xlbd_link_parse(link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 4, NULL, 0), &m),
		  "no name");
	ASSERT_STREQ(m.name, "", "no name: empty");
}

/* A bridge port leaving its bridge is an RTM_DELLINK of family AF_BRIDGE: the interface stays,
 * so it must not read as gone. Other message types say nothing of interfaces. */
static void test_not_about_existence(void)
{
	__u8 buf[512] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct xlbd_link_msg m;

	ASSERT_EQ(xlbd_link_parse(link_msg(buf, RTM_DELLINK, AF_BRIDGE, 5, "port0", 6), &m),
		  -ENOENT, "bridge port deleted");
	ASSERT_EQ(xlbd_link_parse(link_msg(buf, RTM_NEWLINK, AF_BRIDGE, 5, "port0", 6), &m),
		  -ENOENT, "bridge port message");
	ASSERT_EQ(xlbd_link_parse(link_msg(buf, RTM_NEWADDR, AF_UNSPEC, 5, "port0", 6), &m),
		  -ENOENT, "address message");
	ASSERT_EQ(xlbd_link_parse(link_msg(buf, NLMSG_DONE, AF_UNSPEC, 5, NULL, 0), &m), -ENOENT,
		  "end of a dump");
}

static void test_malformed(void)
{
	__u8 buf[512] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct xlbd_link_msg m;
	struct nlmsghdr *h;

	h = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, "veth0", 6);
	h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)) - 1;
	ASSERT_EQ(xlbd_link_parse(h, &m), -EINVAL, "shorter than ifinfomsg");
	ASSERT_EQ(xlbd_link_parse(link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 0, "veth0", 6), &m),
		  -EINVAL, "ifindex 0");
	ASSERT_EQ(xlbd_link_parse(link_msg(buf, RTM_NEWLINK, AF_UNSPEC, -3, "veth0", 6), &m),
		  -EINVAL, "negative ifindex");
	ASSERT_EQ(xlbd_link_parse(link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, "veth0x", 6), &m),
		  -EINVAL, "name without its NUL");
	ASSERT_EQ(xlbd_link_parse(link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, "abcdefghijklmnop", 17),
				  &m),
		  -EINVAL, "name longer than IFNAMSIZ");
	ASSERT_EQ(xlbd_link_parse(link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, "", 1), &m), -EINVAL,
		  "empty name");
	/* An attribute whose length runs past the message is not read. */
	h = link_msg(buf, RTM_NEWLINK, AF_UNSPEC, 7, "veth0", 6);
	h->nlmsg_len -= 4;
	ASSERT_OK(xlbd_link_parse(h, &m), "name attribute cut: ignored");
	ASSERT_STREQ(m.name, "", "cut name not read");
}

int main(void)
{
	RUN_TEST(test_new_and_deleted);
	RUN_TEST(test_not_about_existence);
	RUN_TEST(test_malformed);
	return xt_finish();
}
