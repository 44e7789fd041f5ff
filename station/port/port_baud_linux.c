/* port_baud_linux.c - arbitrary baud rates. Linux takes any integer rate through
 * termios2 + BOTHER (250000, 750000 ...); the classic B-constants are still used for the
 * rates that have one, so stty and other tools keep reporting the speed. This file
 * includes <asm/termbits.h> alone because that header redefines all of <termios.h>. */
#ifdef __linux__
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <errno.h>
#include <stddef.h>
#include <sys/ioctl.h>

/* Declared in port_backend.h, which is not included here to keep <termios.h> out. */
int st_tty_set_baud(int fd, int baud);
int st_tty_check_baud(int fd, int baud, int *actual);

static unsigned std_code(int baud)
{
    static const struct {
        int baud;
        unsigned code;
    } std[] = {
        {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
        {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
        {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
        {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
    };
    for (unsigned i = 0; i < sizeof std / sizeof std[0]; i++)
        if (std[i].baud == baud)
            return std[i].code;
    return BOTHER;
}

int st_tty_set_baud(int fd, int baud)
{
    if (baud <= 0) {
        errno = EINVAL;
        return -1;
    }
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0)
        return -1;
    unsigned code = std_code(baud);
    t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
    t.c_cflag |= code | (code << IBSHIFT);
    t.c_ispeed = (speed_t)baud;
    t.c_ospeed = (speed_t)baud;
    if (ioctl(fd, TCSETS2, &t) != 0)
        return -1;
    return st_tty_check_baud(fd, baud, NULL);
}

int st_tty_check_baud(int fd, int baud, int *actual)
{
    struct termios2 t;
    if (actual)
        *actual = baud;
    /* Drivers write back the rate they achieved; a UART that silently lands far from the
     * request would garble every frame, so that counts as unsupported. */
    if (ioctl(fd, TCGETS2, &t) != 0 || t.c_ospeed == 0)
        return 0; /* nothing to compare with */
    if (actual)
        *actual = (int)t.c_ospeed;
    long diff = (long)t.c_ospeed - baud;
    if (diff < 0)
        diff = -diff;
    if (diff * 100 > (long)baud * 3) {
        errno = ERANGE;
        return -1;
    }
    return 0;
}

#else /* BSD and macOS: speed_t is the rate itself */
#include <termios.h>

int st_tty_set_baud(int fd, int baud);
int st_tty_check_baud(int fd, int baud, int *actual);

int st_tty_check_baud(int fd, int baud, int *actual)
{
    if (actual)
        *actual = baud;
    return 0;
}

int st_tty_set_baud(int fd, int baud)
{
    struct termios t;
    if (tcgetattr(fd, &t) != 0)
        return -1;
    if (cfsetspeed(&t, (speed_t)baud) != 0)
        return -1;
    return tcsetattr(fd, TCSANOW, &t);
}
#endif
