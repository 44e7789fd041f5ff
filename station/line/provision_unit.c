/* provision_unit.c - one unit's NVS partition for one try (provision_unit.h). */
#include "provision_unit.h"

#include <stdio.h>
#include <string.h>

#include "provision.h"

int st_provision_unit(const st_fwset *fw, const st_chip_info *chip, st_serial_fn get_serial,
                      void *user, st_image *img, char serial[64], char summary[512], st_err *err)
{
    const st_provision *pv = &fw->prof.prov;
    serial[0] = summary[0] = 0;
    st_prov_unit u = {.serial = "-"};
    memcpy(u.mac, chip->mac, 6);
    st_prov_result r;
    /* Everything but the serial first: a unit the CSV cannot provision takes no number. */
    if (st_prov_render(pv, fw->csv, &u, &r, err) < 0)
        return -1;
    st_prov_result_free(&r);
    u.serial = "";
    if (pv->serial_fmt[0]) {
        if (get_serial(user, serial, 64, err) < 0) {
            if (err->fclass == ST_FC_NONE)
                err->fclass = ST_FC_CONFIG;
            st_err_wrap(err, "no serial for the unit");
            return -1;
        }
        u.serial = serial;
    }
    if (st_prov_render(pv, fw->csv, &u, &r, err) < 0)
        return -1;
    st_prov_summary(&r, summary, 512);
    int rc = st_image_from_bytes(pv->offset, r.image, r.len, "nvs (per unit)", img, err);
    st_prov_result_free(&r);
    return rc;
}
