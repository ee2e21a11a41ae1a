// The system libzstd (libzstd-dev, found through pkg-config), for the Parquet module's ZSTD codec.
#ifndef STEDI_CZSTD_SHIM_H
#define STEDI_CZSTD_SHIM_H

#include <zstd.h>

#endif
