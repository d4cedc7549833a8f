package cli

import "flag"

// deliveryFlags registers the delivery flags of "parley serve".
func deliveryFlags(fs *flag.FlagSet, getenv func(string) string, c *Config) {
	fs.StringVar(&c.App.CarrierURL, "carrier-url", getenv("PARLEY_CARRIER_URL"),
		"POST every SMS/WhatsApp delivery as a form to this URL instead of recording it in the outbox (env PARLEY_CARRIER_URL)")
}
