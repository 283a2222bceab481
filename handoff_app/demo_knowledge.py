"""The demo knowledge base: Northwind Goods, a fictional online shop."""

DEMO_ARTICLES: tuple[tuple[str, str], ...] = (
    (
        "Opening hours",
        "Our support team is available Monday to Friday, 9:00 to 18:00 (Central European Time). "
        "The online shop itself is open around the clock.",
    ),
    (
        "Shipping times and costs",
        "Orders ship within 1 business day. Standard shipping takes 3 to 5 business days and costs "
        "4.90 EUR; it is free for orders over 50 EUR. Express delivery arrives next business day "
        "for 12.90 EUR.",
    ),
    (
        "Tracking an order",
        "When your order ships you receive an email with a tracking link. You can also find the "
        "tracking number under Account > Orders.",
    ),
    (
        "Returns and refunds",
        "You can return any unused item within 30 days of delivery. Start a return under "
        "Account > Orders > Return item, print the free label, and drop the parcel at any post "
        "office. Refunds reach your original payment method within 5 business days of us "
        "receiving the parcel.",
    ),
    (
        "Payment methods and billing",
        "We accept Visa, Mastercard, American Express, PayPal and bank transfer. Invoices are "
        "emailed when the order ships and can be downloaded under Account > Invoices. You are "
        "charged when your order ships, not when you place it.",
    ),
    (
        "Account and password",
        "To reset your password, click 'Forgot password' on the sign-in page and follow the link "
        "we email you (valid for one hour). You can change your email address and delivery "
        "addresses under Account > Settings.",
    ),
    (
        "Cancelling an order",
        "You can cancel an order free of charge until it ships: open Account > Orders and press "
        "Cancel. Once shipped, return it instead.",
    ),
)
