#include "vmm/i8042.h"

#include <string.h>

/* the status register */
#define ST_OBF 0x01 /* output buffer full: the data port has a byte */
#define ST_SYS 0x04 /* system flag: the self-test passed */
#define ST_CMD 0x08 /* the last write was a command */
#define ST_KEY 0x10 /* the keyboard is not locked */
#define ST_AUX 0x20 /* the byte is the mouse's */

/* the command byte */
#define CB_KBD_INT 0x01
#define CB_SYS	   0x04
#define CB_KBD_OFF 0x10
#define CB_AUX_OFF 0x20
#define CB_XLATE   0x40

void i8042_init(struct i8042 *k)
{
	memset(k, 0, sizeof(*k));
	k->command_byte = CB_XLATE | CB_SYS | CB_KBD_INT;
	k->output_port = 0x03; /* the reset line released, A20 on */
	k->status = ST_SYS | ST_KEY;
}

static void answer(struct i8042 *k, uint8_t byte, bool aux)
{
	k->out = byte;
	k->status = (uint8_t)((k->status & ~ST_AUX) | ST_OBF | (aux ? ST_AUX : 0));
}

static void reset(struct i8042 *k)
{
	if (k->reset)
		k->reset(k->opaque);
}

static void command(struct i8042 *k, uint8_t cmd)
{
	k->pending = 0;
	k->status |= ST_CMD;
	switch (cmd) {
	case 0x20:
		answer(k, k->command_byte, false);
		break;
	case 0x60: /* the command byte */
	case 0xd1: /* the output port */
	case 0xd2: /* echo as the keyboard */
	case 0xd3: /* echo as the mouse */
	case 0xd4: /* a byte for the mouse */
		k->pending = cmd;
		break;
	case 0xa7:
		k->command_byte |= CB_AUX_OFF;
		break;
	case 0xa8:
		k->command_byte &= (uint8_t)~CB_AUX_OFF;
		break;
	case 0xa9: /* mouse interface test */
	case 0xab: /* keyboard interface test */
		answer(k, 0x01, false);
		break;
	case 0xaa:
		k->status |= ST_SYS;
		answer(k, 0x55, false);
		break;
	case 0xad:
		k->command_byte |= CB_KBD_OFF;
		break;
	case 0xae:
		k->command_byte &= (uint8_t)~CB_KBD_OFF;
		break;
	case 0xc0:
		answer(k, 0xa0, false);
		break;
	case 0xd0:
		answer(k, k->output_port, false);
		break;
	default:
		/* 0xf0-0xff pulse output port lines low for a moment: bit 0
		 * is the reset line (0xfe, what Linux sends) */
		if (cmd >= 0xf0 && !(cmd & 1))
			reset(k);
		break;
	}
}

static void data_write(struct i8042 *k, uint8_t byte)
{
	uint8_t cmd = k->pending;
	k->pending = 0;
	k->status &= (uint8_t)~ST_CMD;
	switch (cmd) {
	case 0x60:
		k->command_byte = byte;
		k->status = (uint8_t)((k->status & ~ST_SYS) | (byte & CB_SYS));
		break;
	case 0xd1:
		k->output_port = byte;
		if (!(byte & 1))
			reset(k);
		break;
	case 0xd2:
	case 0xd3:
		answer(k, byte, cmd == 0xd3);
		break;
	default: /* for the keyboard (or the mouse, after 0xd4): none there */
		break;
	}
}

void i8042_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data)
{
	struct i8042 *k = opaque;
	if (size != 1) { /* the ports are a byte wide */
		if (!write)
			memset(data, 0xff, size);
		return;
	}
	if (port == I8042_PORT_CMD) {
		if (write)
			command(k, data[0]);
		else
			data[0] = k->status;
	} else if (write) {
		data_write(k, data[0]);
	} else {
		data[0] = k->out;
		k->status &= (uint8_t) ~(ST_OBF | ST_AUX);
	}
}
