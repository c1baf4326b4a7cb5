/* The DCUI's screens behind the idle screen, one function each, each
 * through the local API only (lapi.h) with the handle's session. Each
 * returns 0 when the person is done with it, or SCREEN_IDLE when nobody
 * pressed a key for the idle time (the caller then logs out). An API
 * refusal is shown with the API's own message and never ends the DCUI. */
#ifndef KEEL_DCUI_ACTIONS_H
#define KEEL_DCUI_ACTIONS_H

#include "dcui/lapi.h"

/* Asks for a user and a password (not echoed) and logs in with the
 * channel "dcui". Returns 0 when logged in; SCREEN_CANCEL (Esc, or a
 * refusal shown until a key) or SCREEN_IDLE otherwise. */
int login_ask(struct lapi *a, const char *title);

/* The menu (F2), until Esc or the idle time; logs out when it ends. */
void menu_run(struct lapi *a);

int netconfig_run(struct lapi *a);    /* 1. configure the management network */
int password_run(struct lapi *a);     /* 2. change root's password */
int agents_run(struct lapi *a);	      /* 3. restart the management agents */
int logs_run(struct lapi *a);	      /* 4. view the logs */
int nettest_run(struct lapi *a);      /* 5. test the management network */
int tsm_run(struct lapi *a);	      /* 6. troubleshooting (tech support mode) */
int lockdown_off_run(struct lapi *a); /* 7. leave normal lockdown */
int reset_run(struct lapi *a);	      /* 8. reset the system configuration */
/* F12: asks for a user and password, then shuts down or restarts the
 * host; logs out after. */
int power_run(struct lapi *a);

/* Shows r's message (the API's) under title until a key. */
int action_failed(const char *title, const struct lapi_reply *r);

#endif
