import { InflightBudget, type BudgetReservation } from './inflight-budget';

describe('InflightBudget', () => {
  it('refuses a connection over its share, then everyone over the overall limit, until released', () => {
    const budget = new InflightBudget(10, 15);
    const a1 = budget.reserve('a', 6) as BudgetReservation;
    expect(budget.reserve('a', 5)).toBe('connection');
    const b1 = budget.reserve('b', 8) as BudgetReservation;
    expect(budget.reserve('c', 2)).toBe('overall');
    expect(budget.total).toBe(14);

    budget.release(a1);
    budget.release(a1);
    expect(budget.total).toBe(8);
    expect(budget.reserve('a', 7)).toMatchObject({ connectionId: 'a', bytes: 7 });
    budget.release(b1);
    expect(budget.total).toBe(7);
  });
});
