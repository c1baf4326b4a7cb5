/* The login screen (actions.h). */
#include "dcui/actions.h"

#include "dcui/screen.h"

#include <string.h>

int login_ask(struct lapi *a, const char *title)
{
	char user[65] = "root", password[257] = "", err[LAPI_MESSAGE_MAX];
	struct field fields[] = {{"Login Name:", user, sizeof(user), false},
				 {"Password:", password, sizeof(password), true}};
	int rc = screen_form(title, "Enter an authorized login name and password for this host.",
			     fields, 2, NULL);
	if (rc == 0 && lapi_login(a, user, password, err, sizeof(err)) < 0) {
		rc = screen_message("Login refused", err);
		rc = rc == SCREEN_IDLE ? SCREEN_IDLE : SCREEN_CANCEL;
	}
	explicit_bzero(password, sizeof(password));
	return rc;
}

int action_failed(const char *title, const struct lapi_reply *r)
{
	return screen_message(title, r->message);
}
