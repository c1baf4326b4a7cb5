/* The PC's keyboard controller, an i8042 on I/O ports I8042_PORT_DATA and
 * I8042_PORT_CMD, with no keyboard and no mouse behind it: what firmware
 * and Linux ask of it before they conclude that nothing is there, quickly
 * (an unanswered command costs them a polling loop of a second or more:
 * SeaBIOS's POST lost 3.5 s of its 4 s to it on the nested test
 * platform), and its reset line.
 *
 * Commands (written to I8042_PORT_CMD) that answer, on the data port,
 * with the status's output-buffer-full bit set until it is read:
 *   0x20      the command byte
 *   0xaa      controller self-test: 0x55 (and the system flag is set)
 *   0xab      keyboard interface test: 0x01, its clock line stuck low
 *             (no keyboard: SeaBIOS gives up on it there)
 *   0xa9      mouse interface test: 0x01, the same
 *   0xd2 B    B back, as if from the keyboard; 0xd3 B: as if from the mouse
 *   0xc0, 0xd0 the input port (0xa0: no keyboard lock), the output port
 * and those that take a byte or change the command byte: 0x60 B (the
 * command byte), 0xd1 B (the output port: bit 0 clear resets), 0xa7/0xa8
 * and 0xad/0xae (the mouse and keyboard ports off and on). 0xfe and the
 * other pulse commands with bit 0 clear reset the machine. Bytes written to
 * the data port for the keyboard, or for the mouse after 0xd4, are taken
 * and never answered (no device); other commands are ignored. No interrupt
 * is ever raised. Called with the VM lock held (portio.h). */
#ifndef KEEL_VMM_I8042_H
#define KEEL_VMM_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define I8042_PORT_DATA 0x60
#define I8042_PORT_CMD	0x64

struct i8042 {
	uint8_t status, command_byte, output_port;
	uint8_t out;	 /* the byte the data port reads */
	uint8_t pending; /* the command waiting for its data byte, or 0 */
	/* the reset line's pulse (the machine resets) */
	void (*reset)(void *opaque);
	void *opaque;
};

void i8042_init(struct i8042 *k);

/* The port handler for I8042_PORT_DATA and I8042_PORT_CMD (portio.h). */
void i8042_io(void *opaque, uint16_t port, unsigned size, bool write, uint8_t *data);

#endif
