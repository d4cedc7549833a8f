package cli

import (
	"flag"
	"strconv"

	"github.com/parley-dev/parley/internal/conv"
)

// deliveryFlags registers the delivery flags of "parley serve".
func deliveryFlags(fs *flag.FlagSet, getenv func(string) string, c *Config) {
	fs.StringVar(&c.App.CarrierURL, "carrier-url", getenv("PARLEY_CARRIER_URL"),
		"POST every SMS/WhatsApp delivery as a form to this URL instead of recording it in the outbox (env PARLEY_CARRIER_URL)")
	maxMedia, err := strconv.ParseInt(envOr(getenv, "PARLEY_MAX_MEDIA_BYTES", strconv.Itoa(conv.DefaultMaxMediaBytes)), 10, 64)
	if err != nil {
		maxMedia = conv.DefaultMaxMediaBytes
	}
	fs.Int64Var(&c.App.MaxMediaBytes, "max-media-bytes", maxMedia,
		"largest media upload accepted, in bytes (env PARLEY_MAX_MEDIA_BYTES; default Twilio's 150 MB)")
}
