package cli

import (
	"flag"
	"strconv"

	"github.com/parley-dev/parley/internal/conv"
	"github.com/parley-dev/parley/internal/httpapi"
)

// deliveryFlags registers the delivery flags of "parley serve": the carrier and the caps on
// live streams.
func deliveryFlags(fs *flag.FlagSet, getenv func(string) string, c *Config) {
	fs.StringVar(&c.App.CarrierURL, "carrier-url", getenv("PARLEY_CARRIER_URL"),
		"POST every SMS/WhatsApp delivery as a form to this URL instead of recording it in the outbox (env PARLEY_CARRIER_URL)")
	maxMedia, err := strconv.ParseInt(envOr(getenv, "PARLEY_MAX_MEDIA_BYTES", strconv.Itoa(conv.DefaultMaxMediaBytes)), 10, 64)
	if err != nil {
		maxMedia = conv.DefaultMaxMediaBytes
	}
	fs.Int64Var(&c.App.MaxMediaBytes, "max-media-bytes", maxMedia,
		"largest media upload accepted, in bytes (env PARLEY_MAX_MEDIA_BYTES; default Twilio's 150 MB)")
	intEnv := func(key string, def int) int {
		if n, err := strconv.Atoi(getenv(key)); err == nil {
			return n
		}
		return def
	}
	fs.IntVar(&c.App.MaxStreams, "max-streams", intEnv("PARLEY_MAX_STREAMS", httpapi.DefaultMaxStreams),
		"most live streams open at once; past it a stream gets 503 (env PARLEY_MAX_STREAMS; -1: no cap)")
	fs.IntVar(&c.App.MaxStreamsPerAccount, "max-streams-per-account", intEnv("PARLEY_MAX_STREAMS_PER_ACCOUNT", httpapi.DefaultMaxStreamsPerAccount),
		"most live streams one account may hold open; past it a stream gets 429 (env PARLEY_MAX_STREAMS_PER_ACCOUNT; -1: no cap)")
}
