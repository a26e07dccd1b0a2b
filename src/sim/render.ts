/** Renders the stand-in's stored transactions in the shape of the real API's answers (see the seeds). */
import type { LedgerCard } from './demo-cards.js';
import type { StoredTransaction } from './ledger.js';

const MERCHANT = {
  object: 'general.merchants',
  id: 'MRC_SIMSTANDIN00000000000000000',
  companyname: 'Kiosk Demo GmbH',
};

/** The ident for a card number the stand-in does not know: echoed, not valid here, no merchant card. */
export function renderUnknownIdent(cardnumber: string): object {
  return {
    object: 'smart.idents',
    id: 'smi_1',
    prefix: cardnumber.slice(0, 4),
    name: 'secucard Kundenkarte',
    type: 'card',
    value: cardnumber,
    valid: false,
    merchantcard: null,
    customer: null,
  };
}

function customerOf(card: LedgerCard): object | null {
  if (!card.customerName) return null;
  return {
    object: 'loyalty.customers',
    id: `CUS_${card.cardnumber.slice(-8)}`,
    contact: {
      name: card.customerName,
      forename: card.customerName.split(' ')[0],
      surname: card.customerName.split(' ').slice(1).join(' '),
    },
  };
}

/** A merchant card as `GET /Loyalty/MerchantCards` and an ident's `merchantcard` give it (seed 000). */
export function renderMerchantCard(card: LedgerCard): object {
  return {
    object: 'loyalty.merchantcards',
    id: `MCD_${card.cardnumber.slice(-12)}`,
    merchant: { object: MERCHANT.object, id: MERCHANT.id },
    card: {
      object: 'loyalty.cards',
      id: `CRD_${card.cardnumber.slice(-12)}`,
      cardnumber: card.cardnumber,
    },
    cardgroup: {
      object: 'loyalty.cardgroups',
      id: 'CRG_SIM',
      display_name: card.group,
      display_name_raw: card.group,
      stock_warn_limit: 0,
    },
    customer: customerOf(card),
    is_base_card: true,
    points: card.points,
    cash_balance: card.cash_balance,
    bonus_balance: card.bonus_balance,
    balance: card.cash_balance + card.bonus_balance,
    stock_status: card.stock_status,
    lock_status: card.lock_status,
    passcode: card.passcode,
    expiry_date: null,
  };
}

/** A card of another merchant is echoed with `valid: false` and without its merchant card. */
export function renderCard(card: LedgerCard): object {
  return {
    object: 'smart.idents',
    id: 'smi_1',
    prefix: card.cardnumber.slice(0, 4),
    name: 'secucard Kundenkarte',
    type: 'card',
    value: card.cardnumber,
    valid: card.owner === 'own',
    merchantcard: card.owner === 'own' ? renderMerchantCard(card) : null,
    customer: customerOf(card),
  };
}

export function renderTransaction(tx: StoredTransaction, card: LedgerCard | undefined): object {
  return {
    object: 'smart.transactions',
    id: tx.id,
    merchant: MERCHANT,
    device_source: tx.device_source ? { object: 'smart.devices', id: tx.device_source.id } : null,
    transactions: tx.ltx.map((id) => ({ object: 'loyalty.transactions', id })),
    created: tx.created,
    updated: tx.updated,
    status: tx.status,
    merchantRef: tx.merchantRef,
    transactionRef: tx.transactionRef,
    intent: tx.intent,
    basket: {
      products: [...tx.products, ...tx.bonusProducts].map((p) => ({
        serialNumber: null,
        reference_id: null,
        contract_id: null,
        sum: null,
        group: [],
        parent: null,
        articleNumber: '',
        ean: '',
        ...p,
      })),
      texts: [],
      type: 'default',
    },
    receipt: tx.receipt,
    ...(tx.receipt_number
      ? {
          receipt_number: tx.receipt_number,
          receipt_merchant: tx.receipt_merchant ?? [],
          receipt_merchant_print: true,
        }
      : {}),
    basket_info: {
      sum: tx.sum,
      currency: tx.currency,
      gratuity: null,
      ...(tx.missing_sum === null ? {} : { missing_sum: tx.missing_sum }),
    },
    idents: card ? [renderCard(card)] : tx.card ? [renderUnknownIdent(tx.card)] : [],
    payment_method: tx.payment_method,
    trans_id: tx.trans_id,
    is_demo: tx.is_demo,
    application_context: { locks: { customer: false }, return_urls: null, iframe_opts: null },
    checkout_links: null,
    payment_links: null,
  };
}
