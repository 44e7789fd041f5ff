/* provision_unit.h - one unit's NVS partition for one try, the same for the line's
 * workers and the repair bench: rendered without a serial first (a unit the CSV cannot
 * provision fails before a number is taken), then with the serial the caller's store
 * keeps or allocates, and prepared as the unit's own region (st_flash_opts.unit_region). */
#ifndef ST_PROVISION_UNIT_H
#define ST_PROVISION_UNIT_H

#include <stddef.h>

#include "chip.h"
#include "err.h"
#include "image.h"

/* The unit's serial into out (cap bytes): 0, or -1 with err. */
typedef int (*st_serial_fn)(void *user, char *out, size_t cap, st_err *err);

/* Build the region for the unit (MAC in chip) from fw's [provision] and CSV. get_serial
 * is asked only when the profile numbers its units. serial (64 bytes) and summary (512,
 * the shown values, secrets as digests) are filled for the record. 0, or -1 with err
 * (class config for a unit that cannot be provisioned). */
int st_provision_unit(const st_fwset *fw, const st_chip_info *chip, st_serial_fn get_serial,
                      void *user, st_image *img, char serial[64], char summary[512], st_err *err);

#endif
